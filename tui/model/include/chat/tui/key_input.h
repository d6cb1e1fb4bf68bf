// Keys as chat-tui sees them, and KeyDecoder, which turns the bytes a terminal sends into
// keys with no curses involved: UTF-8 text, control keys, the escape sequences of xterm-like
// terminals and tmux (arrows, Home/End, PgUp/PgDn, F1-F12, Shift+Tab, modifiers in CSI
// parameters), Alt as an Esc prefix (what macOS terminals send), bracketed paste (one key
// holding the whole pasted text, newlines included) and SGR mouse reports.
// keyName() gives every key a stable name ("C-a", "M-1", "PageUp", "M-Enter") that the key
// map binds to commands.
// Thread contract: not thread-safe; the UI thread owns a decoder.
#ifndef CHAT_TUI_KEY_INPUT_H_
#define CHAT_TUI_KEY_INPUT_H_

#include <string>
#include <string_view>
#include <vector>

namespace chat::tui {

enum class KeyCode {
  kText,  // `text` holds one character (a code point in UTF-8)
  kEnter,
  kTab,
  kBackTab,  // Shift+Tab
  kBackspace,
  kDelete,
  kInsert,
  kEscape,
  kUp,
  kDown,
  kLeft,
  kRight,
  kHome,
  kEnd,
  kPageUp,
  kPageDown,
  kFunction,  // F`number`
  kPaste,     // `text` holds everything pasted
  kMouse,     // `mouse` says what
};

struct MouseEvent {
  enum class Kind { kPress, kRelease, kWheelUp, kWheelDown };
  Kind kind = Kind::kPress;
  int button = 0;  // 0 left, 1 middle, 2 right
  int x = 0;       // cells from the left, from 0
  int y = 0;       // rows from the top, from 0
};

struct Key {
  KeyCode code = KeyCode::kText;
  std::string text;  // kText: the character; kPaste: the pasted text
  bool ctrl = false;  // with kText: Ctrl plus a letter ("a".."z") or "@ [ \ ] ^ _"
  bool alt = false;
  bool shift = false;
  int number = 0;  // kFunction: 1..12
  MouseEvent mouse;

  static Key character(std::string text) {
    Key k;
    k.text = std::move(text);
    return k;
  }
  static Key of(KeyCode code) {
    Key k;
    k.code = code;
    return k;
  }
};

// "a", "C-a", "M-x", "M-Enter", "Up", "C-Left", "F1", "S-Tab", "Paste", "Mouse".
std::string keyName(const Key& key);

class KeyDecoder {
 public:
  // Decodes what it can from the bytes read so far, appending keys to `out`. An incomplete
  // sequence (a lone Esc, half a CSI sequence, half a UTF-8 character, an open paste) waits
  // for more bytes.
  void feed(std::string_view bytes, std::vector<Key>& out);
  // True while bytes are held back; the caller then calls expire() after a short wait
  // (about 50 ms), so that a lone Esc becomes the Escape key.
  bool hasPending() const { return !buffer_.empty() && !inPaste_; }
  // Gives up waiting: a lone Esc becomes Escape, an unfinished sequence its characters.
  void expire(std::vector<Key>& out);

 private:
  // Decodes one key at the start of buffer_; returns bytes used, 0 if more are needed.
  size_t decodeOne(std::string_view b, std::vector<Key>& out, bool final);
  // Its cases, each with the same contract: a sequence starting with Esc (CSI, SS3, Alt+key),
  // a CSI sequence, an SGR mouse report's parameters, and anything else (controls, UTF-8).
  size_t decodeEscape(std::string_view b, std::vector<Key>& out, bool final);
  size_t decodeCsi(std::string_view b, std::vector<Key>& out, bool final);
  static void decodeMouse(std::string_view body, bool pressed, std::vector<Key>& out);
  static size_t decodeText(std::string_view b, std::vector<Key>& out, bool final);

  std::string buffer_;
  bool inPaste_ = false;
  std::string paste_;
};

}  // namespace chat::tui

#endif  // CHAT_TUI_KEY_INPUT_H_
