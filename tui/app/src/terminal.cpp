#include "terminal.h"

#include <curses.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstring>

namespace chat::tui {

namespace {

constexpr const char* kPasteOn = "\x1b[?2004h";
constexpr const char* kPasteOff = "\x1b[?2004l";
// Button presses and the wheel, reported in the SGR format (no 223-column limit).
constexpr const char* kMouseOn = "\x1b[?1000h\x1b[?1006h";
constexpr const char* kMouseOff = "\x1b[?1006l\x1b[?1000l";

short cursesColour(Colour c) {
  switch (c) {
    case Colour::kBlack:
      return COLOR_BLACK;
    case Colour::kRed:
      return COLOR_RED;
    case Colour::kGreen:
      return COLOR_GREEN;
    case Colour::kYellow:
      return COLOR_YELLOW;
    case Colour::kBlue:
      return COLOR_BLUE;
    case Colour::kMagenta:
      return COLOR_MAGENTA;
    case Colour::kCyan:
      return COLOR_CYAN;
    case Colour::kWhite:
      return COLOR_WHITE;
    case Colour::kDefault:
      break;
  }
  return -1;
}

}  // namespace

Terminal::Terminal(bool colours, bool mouse) {
  std::setlocale(LC_ALL, "");
  initscr();
  raw();  // Ctrl+C, Ctrl+Z and friends arrive as keys: the key map decides
  noecho();
  nonl();
  keypad(stdscr, FALSE);  // KeyDecoder reads the raw bytes
  ::fcntl(0, F_SETFL, ::fcntl(0, F_GETFL) | O_NONBLOCK);
  colours_ = colours && has_colors();
  if (colours_) {
    start_color();
    use_default_colors();
  }
  writeRaw(kPasteOn);
  setMouse(mouse);
  resize();
}

Terminal::~Terminal() {
  setMouse(false);
  writeRaw(kPasteOff);
  endwin();
  ::fcntl(0, F_SETFL, ::fcntl(0, F_GETFL) & ~O_NONBLOCK);
}

void Terminal::writeRaw(const char* sequence) {
  fflush(stdout);
  (void)!::write(1, sequence, std::strlen(sequence));
}

void Terminal::resize() {
  winsize ws{};
  if (::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
    resizeterm(ws.ws_row, ws.ws_col);
  }
  getmaxyx(stdscr, height_, width_);
  invalidate();
}

void Terminal::invalidate() {
  shown_.reset();
  clearok(curscr, TRUE);
}

void Terminal::setMouse(bool on) {
  if (on != mouse_) {
    writeRaw(on ? kMouseOn : kMouseOff);
    mouse_ = on;
  }
}

void Terminal::bell() {
  beep();
}

short Terminal::pairFor(Colour fg, Colour bg) {
  if (!colours_ || (fg == Colour::kDefault && bg == Colour::kDefault)) {
    return 0;
  }
  auto key = std::make_pair(static_cast<int>(fg), static_cast<int>(bg));
  auto it = pairs_.find(key);
  if (it != pairs_.end()) {
    return it->second;
  }
  auto next = static_cast<short>(pairs_.size() + 1);
  if (next >= COLOR_PAIRS) {
    return 0;
  }
  init_pair(next, cursesColour(fg), cursesColour(bg));
  pairs_[key] = next;
  return next;
}

void Terminal::show(const Canvas& canvas, CursorPosition cursor) {
  bool full = !shown_ || shown_->width() != canvas.width() || shown_->height() != canvas.height();
  for (int y = 0; y < canvas.height() && y < height_; ++y) {
    bool changed = full;
    for (int x = 0; x < canvas.width() && !changed; ++x) {
      changed = !(canvas.at(x, y) == shown_->at(x, y));
    }
    if (!changed) {
      continue;
    }
    // A whole row at a time: a cluster curses measures differently from us (an emoji
    // sequence) cannot leave stale cells behind, since every cell is placed explicitly.
    for (int x = 0; x < canvas.width() && x < width_; ++x) {
      const Cell& cell = canvas.at(x, y);
      if (cell.text.empty()) {
        continue;  // the right half of a wide character
      }
      attr_t attrs = A_NORMAL;
      if (cell.style.bold) {
        attrs |= A_BOLD;
      }
      if (cell.style.reverse) {
        attrs |= A_REVERSE;
      }
      if (cell.style.dim) {
        attrs |= A_DIM;
      }
      attr_set(attrs, pairFor(cell.style.fg, cell.style.bg), nullptr);
      if (y == height_ - 1 && x == width_ - 1) {
        // The last cell: addstr would try to scroll; insert it instead.
        mvinsstr(y, x, cell.text.c_str());
      } else {
        mvaddstr(y, x, cell.text.c_str());
      }
    }
  }
  attr_set(A_NORMAL, 0, nullptr);
  if (cursor.visible) {
    move(cursor.y, cursor.x);
  }
  curs_set(cursor.visible ? 1 : 0);
  refresh();
  shown_ = canvas;
}

std::optional<std::string> Terminal::readInput() {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      return out.empty() ? std::nullopt : std::optional<std::string>(out);
    }
    if (errno == EINTR) {
      continue;
    }
    return out;  // EAGAIN: everything there was
  }
}

}  // namespace chat::tui
