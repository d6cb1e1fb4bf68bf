#include "chat/tui/text_width.h"

#include <algorithm>
#include <iterator>

namespace chat::tui {

namespace {

struct Range {
  char32_t first;
  char32_t last;
};

// Zero-width: combining marks (Mn, Me) of the common scripts, format characters.
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2},
    {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x0670, 0x0670},
    {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0711, 0x0711},
    {0x0730, 0x074A}, {0x07A6, 0x07B0}, {0x0816, 0x082D}, {0x0900, 0x0902}, {0x093A, 0x093A},
    {0x093C, 0x093C}, {0x0941, 0x0948}, {0x094D, 0x094D}, {0x0951, 0x0957}, {0x0962, 0x0963},
    {0x0981, 0x0981}, {0x09BC, 0x09BC}, {0x09C1, 0x09C4}, {0x09CD, 0x09CD}, {0x0A01, 0x0A02},
    {0x0A3C, 0x0A3C}, {0x0A41, 0x0A51}, {0x0A70, 0x0A71}, {0x0A81, 0x0A82}, {0x0ABC, 0x0ABC},
    {0x0AC1, 0x0AC8}, {0x0ACD, 0x0ACD}, {0x0B01, 0x0B01}, {0x0B3C, 0x0B3C}, {0x0B3F, 0x0B3F},
    {0x0B41, 0x0B44}, {0x0B4D, 0x0B4D}, {0x0BC0, 0x0BC0}, {0x0BCD, 0x0BCD}, {0x0C3E, 0x0C40},
    {0x0C46, 0x0C56}, {0x0CBC, 0x0CBC}, {0x0CCC, 0x0CCD}, {0x0D41, 0x0D44}, {0x0D4D, 0x0D4D},
    {0x0DCA, 0x0DCA}, {0x0DD2, 0x0DD6}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E},
    {0x0EB1, 0x0EB1}, {0x0EB4, 0x0EBC}, {0x0EC8, 0x0ECD}, {0x0F18, 0x0F19}, {0x0F35, 0x0F35},
    {0x0F37, 0x0F37}, {0x0F39, 0x0F39}, {0x0F71, 0x0F7E}, {0x0F80, 0x0F84}, {0x0F86, 0x0F87},
    {0x102D, 0x1030}, {0x1032, 0x1037}, {0x1039, 0x103A}, {0x1160, 0x11FF}, {0x135D, 0x135F},
    {0x1712, 0x1714}, {0x17B4, 0x17B5}, {0x17B7, 0x17BD}, {0x17C6, 0x17C6}, {0x17C9, 0x17D3},
    {0x180B, 0x180F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x202A, 0x202E},
    {0x2060, 0x2064}, {0x20D0, 0x20F0}, {0x302A, 0x302D}, {0x3099, 0x309A}, {0xA66F, 0xA672},
    {0xA674, 0xA67D}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0x1F3FB, 0x1F3FF},
    {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xE0100, 0xE01EF},
};

// Two columns: East Asian Wide and Fullwidth, and emoji shown as emoji by default.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F202}, {0x1F210, 0x1F23B},
    {0x1F240, 0x1F248}, {0x1F250, 0x1F251}, {0x1F260, 0x1F265}, {0x1F300, 0x1F320},
    {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA},
    {0x1F3CF, 0x1F3D3}, {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E},
    {0x1F440, 0x1F440}, {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E},
    {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A}, {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4},
    {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2},
    {0x1F6D5, 0x1F6D7}, {0x1F6DC, 0x1F6DF}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC},
    {0x1F7E0, 0x1F7EB}, {0x1F7F0, 0x1F7F0}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945},
    {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

bool inRanges(char32_t cp, const Range* begin, const Range* end) {
  auto it = std::upper_bound(begin, end, cp, [](char32_t c, const Range& r) { return c < r.first; });
  return it != begin && cp <= std::prev(it)->last;
}

constexpr char32_t kZwj = 0x200D;
constexpr char32_t kVs16 = 0xFE0F;

bool isRegionalIndicator(char32_t cp) {
  return cp >= 0x1F1E6 && cp <= 0x1F1FF;
}
bool isEmojiModifier(char32_t cp) {
  return cp >= 0x1F3FB && cp <= 0x1F3FF;
}
// Extends the cluster before it (combining mark, variation selector, ZWJ, modifier, tag).
bool isExtender(char32_t cp) {
  return cp == kZwj || isEmojiModifier(cp) ||
         (inRanges(cp, std::begin(kZeroWidth), std::end(kZeroWidth)) && cp != 0x200B &&
          cp != 0xFEFF && !(cp >= 0x200E && cp <= 0x200F) && !(cp >= 0x202A && cp <= 0x202E));
}

// Decodes one code point at `i`; advances `i`. A bad byte reads as U+FFFD, one byte long.
char32_t decode(std::string_view s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) >> 6) != 0x2) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += n;
  return cp;
}

}  // namespace

int codePointWidth(char32_t cp) {
  if (cp == 0) {
    return 0;
  }
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
    return 0;  // controls are never drawn as such
  }
  if (inRanges(cp, std::begin(kZeroWidth), std::end(kZeroWidth))) {
    return 0;
  }
  if (isRegionalIndicator(cp)) {
    return 1;  // a lone one; a pair (a flag) is a cluster of width 2
  }
  return inRanges(cp, std::begin(kWide), std::end(kWide)) ? 2 : 1;
}

std::vector<Grapheme> graphemes(std::string_view text) {
  std::vector<Grapheme> out;
  size_t i = 0;
  while (i < text.size()) {
    Grapheme g;
    g.offset = i;
    char32_t base = decode(text, i);
    g.width = codePointWidth(base);
    bool emoji = g.width == 2 && base >= 0x1F000;
    if (isRegionalIndicator(base) && i < text.size()) {
      size_t j = i;
      if (isRegionalIndicator(decode(text, j))) {
        i = j;
        g.width = 2;  // a flag
      }
    }
    // Absorb what extends the cluster; after a ZWJ, the next code point joins too.
    while (i < text.size()) {
      size_t j = i;
      char32_t next = decode(text, j);
      if (next == kVs16) {
        g.width = std::max(g.width, 2);  // emoji presentation
        i = j;
      } else if (next == kZwj) {
        i = j;
        if (i < text.size()) {
          size_t k = i;
          char32_t joined = decode(text, k);
          if (codePointWidth(joined) > 0) {
            i = k;
            emoji = true;
          }
        }
      } else if (isExtender(next)) {
        i = j;
      } else {
        break;
      }
    }
    if (emoji) {
      g.width = 2;
    }
    g.length = i - g.offset;
    out.push_back(g);
  }
  return out;
}

int displayWidth(std::string_view text) {
  int width = 0;
  for (const auto& g : graphemes(text)) {
    width += g.width;
  }
  return width;
}

std::vector<std::string> wrap(std::string_view text, int width) {
  std::vector<std::string> lines;
  width = std::max(width, 2);  // a wide grapheme must fit somewhere
  std::string line;
  int used = 0;
  size_t lastSpace = std::string::npos;  // in `line`, just after a space
  int widthAtSpace = 0;
  for (const auto& g : graphemes(text)) {
    std::string_view piece = text.substr(g.offset, g.length);
    if (piece == "\n") {
      lines.push_back(line);
      line.clear();
      used = 0;
      lastSpace = std::string::npos;
      continue;
    }
    if (used + g.width > width && !line.empty()) {
      if (lastSpace != std::string::npos && lastSpace < line.size()) {
        // Break after the last space: the word goes to the next line whole.
        std::string rest = line.substr(lastSpace);
        lines.push_back(line.substr(0, lastSpace));
        line = rest;
        used -= widthAtSpace;
      } else {
        lines.push_back(line);
        line.clear();
        used = 0;
      }
      lastSpace = std::string::npos;
    }
    line.append(piece);
    used += g.width;
    if (piece == " ") {
      lastSpace = line.size();
      widthAtSpace = used;
    }
  }
  if (!line.empty() || lines.empty()) {
    lines.push_back(line);
  }
  return lines;
}

}  // namespace chat::tui
