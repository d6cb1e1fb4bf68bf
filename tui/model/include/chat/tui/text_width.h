// Text width for the terminal: the one function every part of chat-tui uses to measure
// text, so that wide characters never misalign the screen or the cursor. It splits UTF-8 into
// grapheme clusters (a base character with its combining marks, variation selectors,
// zero-width joiner sequences, skin-tone modifiers and regional-indicator pairs) and gives
// each cluster the width a modern terminal gives it: 2 for East Asian wide and fullwidth
// characters and for emoji (an emoji ZWJ sequence is one cluster of width 2; VS16 makes a
// text-style symbol an emoji of width 2), 0 for a stray combining mark or control, 1 for
// the rest. Invalid UTF-8 counts one replacement character per bad byte.
// Thread contract: pure functions.
#ifndef CHAT_TUI_TEXT_WIDTH_H_
#define CHAT_TUI_TEXT_WIDTH_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chat::tui {

struct Grapheme {
  size_t offset = 0;  // bytes into the text
  size_t length = 0;  // bytes
  int width = 0;      // terminal columns
};

// The grapheme clusters of `text`, in order.
std::vector<Grapheme> graphemes(std::string_view text);
// Columns `text` takes on one line.
int displayWidth(std::string_view text);
// Columns of one code point on its own (0 for combining marks and controls).
int codePointWidth(char32_t cp);
// Splits `text` into lines of at most `width` columns (at least one grapheme per line),
// breaking after spaces where it can and inside words where it must; '\n' always breaks.
std::vector<std::string> wrap(std::string_view text, int width);

}  // namespace chat::tui

#endif  // CHAT_TUI_TEXT_WIDTH_H_
