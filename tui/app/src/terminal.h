// Terminal: the only code of chat-tui that includes curses. It shows a Canvas (rewriting
// only the rows that changed), places the cursor, switches bracketed paste and mouse
// reporting on and off, rings the bell, follows the window size, and hands over the raw
// bytes typed (KeyDecoder turns them into keys, so Alt as an Esc prefix, paste and mouse
// reports are decoded in testable code, not by curses).
// Thread contract: UI thread only; one Terminal per process.
#ifndef CHAT_TUI_APP_TERMINAL_H_
#define CHAT_TUI_APP_TERMINAL_H_

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "chat/tui/canvas.h"
#include "chat/tui/screen_view.h"

namespace chat::tui {

class Terminal {
 public:
  Terminal(bool colours, bool mouse);
  ~Terminal();
  Terminal(const Terminal&) = delete;  // owns the screen
  Terminal& operator=(const Terminal&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }
  // Re-reads the window size (after SIGWINCH); the next show() redraws everything.
  void resize();
  // Draws `canvas` (of width() x height()) and puts the cursor at `cursor`.
  void show(const Canvas& canvas, CursorPosition cursor);
  // The next show() redraws every cell (Ctrl+L).
  void invalidate();
  void setMouse(bool on);
  void bell();
  int inputFd() const { return 0; }
  // The bytes typed since the last call (never blocks); nullopt when the input is closed.
  std::optional<std::string> readInput();

 private:
  short pairFor(Colour fg, Colour bg);
  void writeRaw(const char* sequence);

  int width_ = 0;
  int height_ = 0;
  bool colours_ = false;
  bool mouse_ = false;
  std::optional<Canvas> shown_;
  std::map<std::pair<int, int>, short> pairs_;
};

}  // namespace chat::tui

#endif  // CHAT_TUI_APP_TERMINAL_H_
