#include "chat/tui/canvas.h"

#include <algorithm>

#include "chat/tui/text_width.h"

namespace chat::tui {

Canvas::Canvas(int width, int height)
    : width_(std::max(width, 0)),
      height_(std::max(height, 0)),
      cells_(static_cast<size_t>(width_) * static_cast<size_t>(height_)) {}

const Cell& Canvas::at(int x, int y) const {
  return cells_[static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x)];
}

void Canvas::fill(int x, int y, int w, int h, Style style) {
  for (int row = std::max(y, 0); row < std::min(y + h, height_); ++row) {
    for (int col = std::max(x, 0); col < std::min(x + w, width_); ++col) {
      cells_[static_cast<size_t>(row) * static_cast<size_t>(width_) + static_cast<size_t>(col)] =
          Cell{" ", style};
    }
  }
}

int Canvas::put(int x, int y, std::string_view text, Style style, int maxColumns) {
  if (y < 0 || y >= height_ || x >= width_) {
    return 0;
  }
  int limit = maxColumns < 0 ? width_ - x : std::min(maxColumns, width_ - x);
  int used = 0;
  auto cell = [&](int col) -> Cell& {
    return cells_[static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(col)];
  };
  for (const auto& g : graphemes(text)) {
    std::string_view piece = text.substr(g.offset, g.length);
    int w = g.width;
    bool printable = w > 0;
    if (!printable) {
      // A control character or a stray mark: a space keeps the columns honest.
      piece = " ";
      w = 1;
    }
    if (used + w > limit) {
      // A wide cluster that does not fit is not drawn in half: pad instead.
      while (used < limit) {
        cell(x + used) = Cell{" ", style};
        ++used;
      }
      break;
    }
    int col = x + used;
    if (col >= 0) {
      cell(col) = Cell{std::string(piece), style};
      if (w == 2 && col + 1 < width_) {
        cell(col + 1) = Cell{"", style};
      }
    }
    used += w;
  }
  return used;
}

std::string Canvas::toText() const {
  std::string out;
  for (int y = 0; y < height_; ++y) {
    std::string line;
    for (int x = 0; x < width_; ++x) {
      line += at(x, y).text;
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace chat::tui
