// Canvas: a grid of terminal cells that the renderer draws into and that tests read back as
// text (golden screens), with no terminal involved. A cell holds one grapheme cluster and a
// style; a wide cluster takes its cell and marks the next one as its continuation, so a
// wide character is never cut in half: one that does not fit is replaced by spaces.
// Thread contract: not thread-safe.
#ifndef CHAT_TUI_CANVAS_H_
#define CHAT_TUI_CANVAS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::tui {

enum class Colour : uint8_t { kDefault, kBlack, kRed, kGreen, kYellow, kBlue, kMagenta, kCyan, kWhite };

struct Style {
  Colour fg = Colour::kDefault;
  Colour bg = Colour::kDefault;
  bool bold = false;
  bool reverse = false;
  bool dim = false;
  bool operator==(const Style&) const = default;
};

struct Cell {
  std::string text = " ";  // one grapheme cluster; empty for the right half of a wide one
  Style style;
  bool operator==(const Cell&) const = default;
};

class Canvas {
 public:
  Canvas(int width, int height);
  int width() const { return width_; }
  int height() const { return height_; }

  // Writes `text` from (x, y) on one row, clipped at `maxColumns` columns (and the edge);
  // returns the columns used. Newlines and controls are drawn as spaces.
  int put(int x, int y, std::string_view text, Style style = {}, int maxColumns = -1);
  // Fills a rectangle with spaces in `style`.
  void fill(int x, int y, int w, int h, Style style = {});
  const Cell& at(int x, int y) const;
  // The screen as lines of text, trailing spaces removed (for golden tests).
  std::string toText() const;

 private:
  int width_;
  int height_;
  std::vector<Cell> cells_;
};

}  // namespace chat::tui

#endif  // CHAT_TUI_CANVAS_H_
