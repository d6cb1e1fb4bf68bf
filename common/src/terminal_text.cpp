#include "chat/common/terminal_text.h"

#include <cstdio>

namespace chat {

namespace {

// The code point starting at s[i] and its length in bytes; length 0 for an invalid sequence.
std::pair<char32_t, size_t> decodeAt(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    return {c, 1};
  }
  size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    return {0, 0};
  }
  char32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) {
      return {0, 0};
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  return {cp, len};
}

}  // namespace

bool isTerminalControl(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||  // C0, DEL, C1
         cp == 0x061C || cp == 0x200E || cp == 0x200F ||          // bidi marks
         (cp >= 0x202A && cp <= 0x202E) ||                        // bidi embeddings, overrides
         (cp >= 0x2066 && cp <= 0x2069);                          // bidi isolates
}

std::string terminalSafe(std::string_view text, std::string_view keep) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto [cp, len] = decodeAt(text, i);
    char buf[16];
    if (len == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(text[i]));
      out += buf;
      ++i;
      continue;
    }
    if (isTerminalControl(cp) && !(len == 1 && keep.find(static_cast<char>(cp)) != keep.npos)) {
      if (cp < 0x80) {
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      }
      out += buf;
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace chat
