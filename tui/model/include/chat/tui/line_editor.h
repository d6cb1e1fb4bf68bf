// LineEditor: chat-tui's input line as pure logic (no curses): UTF-8 text with a cursor
// that moves by grapheme, the readline keys people know (Ctrl+A/E/B/F/W/U/K/Y, Alt+B/F/D,
// Alt+Backspace), a kill buffer, and input history with Up/Down that keeps the line being
// typed. Widths come from text_width.h, so the cursor sits right after wide characters.
// Thread contract: not thread-safe; the UI thread owns it.
#ifndef CHAT_TUI_LINE_EDITOR_H_
#define CHAT_TUI_LINE_EDITOR_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chat::tui {

class LineEditor {
 public:
  explicit LineEditor(size_t historyLimit = 200) : historyLimit_(historyLimit) {}

  const std::string& text() const { return text_; }
  size_t cursor() const { return cursor_; }  // a byte offset on a grapheme boundary
  int cursorColumn() const;                  // columns before the cursor
  bool empty() const { return text_.empty(); }

  // Typed or pasted text at the cursor (newlines kept: a paste may hold several lines).
  void insert(std::string_view utf8);
  void backspace();
  void deleteForward();
  void left();
  void right();
  void home();
  void end();
  void wordLeft();
  void wordRight();
  void killToEnd();        // Ctrl+K
  void killToStart();      // Ctrl+U
  void killWordBack();     // Ctrl+W, Alt+Backspace
  void killWordForward();  // Alt+D
  void yank();             // Ctrl+Y: the last killed text
  void setText(std::string text);  // cursor at the end

  // Enter: the line (remembered in the history when not blank); the editor is emptied.
  std::string take();
  void historyUp();
  void historyDown();

  // The part of the line to show in `width` columns with the cursor visible: the first byte
  // shown and the cursor's column within the slice. Scrolls horizontally as needed.
  struct View {
    size_t firstByte = 0;
    std::string visible;
    int cursorColumn = 0;
  };
  View view(int width) const;

 private:
  size_t previousBoundary(size_t from) const;
  size_t nextBoundary(size_t from) const;
  size_t wordStartBefore(size_t from) const;
  size_t wordEndAfter(size_t from) const;

  std::string text_;
  size_t cursor_ = 0;
  std::string killed_;
  std::vector<std::string> history_;
  size_t historyIndex_ = 0;  // == history_.size() while editing a new line
  std::string draft_;        // the new line, kept while browsing the history
  size_t historyLimit_;
};

}  // namespace chat::tui

#endif  // CHAT_TUI_LINE_EDITOR_H_
