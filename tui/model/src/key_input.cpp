#include "chat/tui/key_input.h"

#include <cstdlib>

namespace chat::tui {

namespace {

constexpr char kEsc = '\x1b';
constexpr std::string_view kPasteEnd = "\x1b[201~";

void applyModifiers(Key& k, int param) {
  // xterm: the parameter is 1 + a bit set of Shift (1), Alt (2), Ctrl (4).
  int bits = param - 1;
  if (bits > 0) {
    k.shift = (bits & 1) != 0;
    k.alt = (bits & 2) != 0;
    k.ctrl = (bits & 4) != 0;
  }
}

Key function(int n) {
  Key k = Key::of(KeyCode::kFunction);
  k.number = n;
  return k;
}

// The key of a "CSI n ~" sequence, or kText with empty text when unknown.
Key tildeKey(int n) {
  switch (n) {
    case 1:
    case 7:
      return Key::of(KeyCode::kHome);
    case 2:
      return Key::of(KeyCode::kInsert);
    case 3:
      return Key::of(KeyCode::kDelete);
    case 4:
    case 8:
      return Key::of(KeyCode::kEnd);
    case 5:
      return Key::of(KeyCode::kPageUp);
    case 6:
      return Key::of(KeyCode::kPageDown);
    default:
      break;
  }
  if (n >= 11 && n <= 15) {
    return function(n - 10);
  }
  if (n >= 17 && n <= 21) {
    return function(n - 11);
  }
  if (n == 23 || n == 24) {
    return function(n - 12);
  }
  return Key{};
}

// The key of a final letter after CSI or SS3 (arrows, Home/End, F1-F4, keypad Enter).
Key letterKey(char c) {
  switch (c) {
    case 'A':
      return Key::of(KeyCode::kUp);
    case 'B':
      return Key::of(KeyCode::kDown);
    case 'C':
      return Key::of(KeyCode::kRight);
    case 'D':
      return Key::of(KeyCode::kLeft);
    case 'H':
      return Key::of(KeyCode::kHome);
    case 'F':
      return Key::of(KeyCode::kEnd);
    case 'P':
      return function(1);
    case 'Q':
      return function(2);
    case 'R':
      return function(3);
    case 'S':
      return function(4);
    case 'M':
      return Key::of(KeyCode::kEnter);
    case 'Z':
      return Key::of(KeyCode::kBackTab);
    default:
      return Key{};
  }
}

bool known(const Key& k) {
  return k.code != KeyCode::kText || !k.text.empty();
}

std::vector<int> params(std::string_view s) {
  std::vector<int> out;
  int value = 0;
  bool any = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      any = true;
      if (value > 100000) {
        value = 100000;  // hostile input cannot overflow
      }
    } else if (c == ';') {
      out.push_back(any ? value : 0);
      value = 0;
      any = false;
    }
  }
  out.push_back(any ? value : 0);
  return out;
}

// Length of the UTF-8 sequence a lead byte starts, 0 if it cannot start one.
size_t utf8Length(unsigned char lead) {
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    return 2;
  }
  if (lead >= 0xE0 && lead <= 0xEF) {
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    return 4;
  }
  return 0;
}

std::string normaliseNewlines(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') {
        ++i;
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string keyName(const Key& key) {
  std::string prefix;
  if (key.ctrl) {
    prefix += "C-";
  }
  if (key.alt) {
    prefix += "M-";
  }
  switch (key.code) {
    case KeyCode::kText:
      return prefix + (key.text == " " ? std::string("Space") : key.text);
    case KeyCode::kEnter:
      return prefix + "Enter";
    case KeyCode::kTab:
      return prefix + (key.shift ? "S-Tab" : "Tab");
    case KeyCode::kBackTab:
      return prefix + "S-Tab";
    case KeyCode::kBackspace:
      return prefix + "Backspace";
    case KeyCode::kDelete:
      return prefix + "Delete";
    case KeyCode::kInsert:
      return prefix + "Insert";
    case KeyCode::kEscape:
      return prefix + "Escape";
    case KeyCode::kUp:
      return prefix + (key.shift ? "S-" : "") + "Up";
    case KeyCode::kDown:
      return prefix + (key.shift ? "S-" : "") + "Down";
    case KeyCode::kLeft:
      return prefix + (key.shift ? "S-" : "") + "Left";
    case KeyCode::kRight:
      return prefix + (key.shift ? "S-" : "") + "Right";
    case KeyCode::kHome:
      return prefix + "Home";
    case KeyCode::kEnd:
      return prefix + "End";
    case KeyCode::kPageUp:
      return prefix + "PageUp";
    case KeyCode::kPageDown:
      return prefix + "PageDown";
    case KeyCode::kFunction:
      return prefix + "F" + std::to_string(key.number);
    case KeyCode::kPaste:
      return "Paste";
    case KeyCode::kMouse:
      return "Mouse";
  }
  return "?";
}

size_t KeyDecoder::decodeOne(std::string_view b, std::vector<Key>& out, bool final) {
  return static_cast<unsigned char>(b[0]) == static_cast<unsigned char>(kEsc)
             ? decodeEscape(b, out, final)
             : decodeText(b, out, final);
}

size_t KeyDecoder::decodeEscape(std::string_view b, std::vector<Key>& out, bool final) {
  if (b.size() == 1) {
    if (!final) {
      return 0;
    }
    out.push_back(Key::of(KeyCode::kEscape));
    return 1;
  }
  if (b[1] == '[') {
    return decodeCsi(b, out, final);
  }
  if (b[1] == 'O') {  // SS3: F1-F4 and the arrows of some terminals
    if (b.size() == 2) {
      if (!final) {
        return 0;
      }
      Key k = Key::character("O");
      k.alt = true;
      out.push_back(k);
      return 2;
    }
    Key k = letterKey(b[2]);
    if (known(k)) {
      out.push_back(k);
    }
    return 3;
  }
  if (b[1] == kEsc) {
    out.push_back(Key::of(KeyCode::kEscape));
    return 1;
  }
  // Esc then a key: that key with Alt.
  std::vector<Key> inner;
  size_t used = decodeOne(b.substr(1), inner, final);
  if (used == 0) {
    return 0;
  }
  for (auto& k : inner) {
    k.alt = true;
    out.push_back(k);
  }
  return used + 1;
}

size_t KeyDecoder::decodeCsi(std::string_view b, std::vector<Key>& out, bool final) {
  // Parameter bytes, then one final byte in 0x40..0x7E.
  size_t i = 2;
  while (i < b.size() &&
         (static_cast<unsigned char>(b[i]) < 0x40 || static_cast<unsigned char>(b[i]) > 0x7E)) {
    if (i > 32) {  // not a sequence any terminal sends: drop the Esc
      out.push_back(Key::of(KeyCode::kEscape));
      return 1;
    }
    ++i;
  }
  if (i >= b.size()) {
    if (!final) {
      return 0;
    }
    Key k = Key::character("[");
    k.alt = true;
    out.push_back(k);
    return 2;
  }
  std::string_view body = b.substr(2, i - 2);
  char last = b[i];
  size_t used = i + 1;
  if (last == '~' && body == "200") {
    inPaste_ = true;
    paste_.clear();
    return used;
  }
  if (!body.empty() && body[0] == '<' && (last == 'M' || last == 'm')) {
    decodeMouse(body.substr(1), last == 'M', out);
    return used;
  }
  auto p = params(body);  // never empty
  Key k = last == '~' ? tildeKey(p[0]) : letterKey(last);
  if (known(k)) {
    if (p.size() >= 2) {
      applyModifiers(k, p[1]);
    }
    out.push_back(k);
  }
  return used;  // unknown sequences are swallowed, never typed
}

void KeyDecoder::decodeMouse(std::string_view body, bool pressed, std::vector<Key>& out) {
  // SGR mouse: button code; column; row (1-based).
  auto p = params(body);
  if (p.size() < 3) {
    return;
  }
  Key k = Key::of(KeyCode::kMouse);
  int code = p[0];
  k.mouse.x = p[1] - 1;
  k.mouse.y = p[2] - 1;
  k.shift = (code & 4) != 0;
  k.alt = (code & 8) != 0;
  k.ctrl = (code & 16) != 0;
  if ((code & 64) != 0) {
    k.mouse.kind =
        (code & 1) != 0 ? MouseEvent::Kind::kWheelDown : MouseEvent::Kind::kWheelUp;
  } else {
    k.mouse.kind = pressed ? MouseEvent::Kind::kPress : MouseEvent::Kind::kRelease;
    k.mouse.button = code & 3;
  }
  if ((code & 32) == 0) {  // motion reports are not wanted
    out.push_back(k);
  }
}

size_t KeyDecoder::decodeText(std::string_view b, std::vector<Key>& out, bool final) {
  auto c = static_cast<unsigned char>(b[0]);
  if (c == '\r' || c == '\n') {
    out.push_back(Key::of(KeyCode::kEnter));
    // A terminal in some modes sends CR LF for Enter: one key.
    return (c == '\r' && b.size() > 1 && b[1] == '\n') ? 2 : 1;
  }
  if (c == '\t') {
    out.push_back(Key::of(KeyCode::kTab));
    return 1;
  }
  if (c == 0x7f || c == 0x08) {
    out.push_back(Key::of(KeyCode::kBackspace));
    return 1;
  }
  if (c < 0x20) {
    Key k = Key::character(c == 0 ? std::string(" ")
                                  : std::string(1, c <= 26 ? static_cast<char>('a' + c - 1)
                                                           : static_cast<char>('@' + c)));
    k.ctrl = true;
    out.push_back(k);
    return 1;
  }
  size_t len = utf8Length(c);
  if (len == 0) {
    out.push_back(Key::character("\xEF\xBF\xBD"));  // U+FFFD for a bad byte
    return 1;
  }
  if (b.size() < len) {
    if (!final) {
      return 0;
    }
    out.push_back(Key::character("\xEF\xBF\xBD"));
    return 1;
  }
  for (size_t i = 1; i < len; ++i) {
    if ((static_cast<unsigned char>(b[i]) & 0xC0) != 0x80) {
      out.push_back(Key::character("\xEF\xBF\xBD"));
      return 1;
    }
  }
  out.push_back(Key::character(std::string(b.substr(0, len))));
  return len;
}

void KeyDecoder::feed(std::string_view bytes, std::vector<Key>& out) {
  buffer_.append(bytes);
  size_t pos = 0;
  while (pos < buffer_.size()) {
    if (inPaste_) {
      size_t end = buffer_.find(kPasteEnd, pos);
      if (end == std::string::npos) {
        // Keep a tail that could be the start of the end marker.
        size_t keep = std::min(buffer_.size() - pos, kPasteEnd.size() - 1);
        paste_.append(buffer_, pos, buffer_.size() - pos - keep);
        pos = buffer_.size() - keep;
        break;
      }
      paste_.append(buffer_, pos, end - pos);
      Key k = Key::of(KeyCode::kPaste);
      k.text = normaliseNewlines(paste_);
      paste_.clear();
      inPaste_ = false;
      out.push_back(std::move(k));
      pos = end + kPasteEnd.size();
      continue;
    }
    size_t used = decodeOne(std::string_view(buffer_).substr(pos), out, false);
    if (used == 0) {
      break;
    }
    pos += used;
  }
  buffer_.erase(0, pos);
}

void KeyDecoder::expire(std::vector<Key>& out) {
  if (inPaste_) {
    return;
  }
  size_t pos = 0;
  while (pos < buffer_.size()) {
    pos += decodeOne(std::string_view(buffer_).substr(pos), out, true);
  }
  buffer_.clear();
}

}  // namespace chat::tui
