#include "chat/tui/conversation_view.h"

#include <algorithm>
#include <ctime>

#include "chat/tui/text_width.h"

namespace chat::tui {

namespace {

struct Line {
  uint64_t messageId = 0;  // the message the line belongs to (0: a rule, or still sending)
  std::string prefix;  // time and sender, on the first line of a message
  std::string text;
  Style prefixStyle;
  Style textStyle;
  int indent = 0;  // columns before `text`
};

std::string localTime(int64_t millis) {
  std::time_t t = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", tm.tm_hour, tm.tm_min);
  return buf;
}

}  // namespace

Colour colourOf(const std::string& name) {
  static constexpr Colour kPalette[] = {Colour::kRed,  Colour::kGreen,   Colour::kYellow,
                                        Colour::kBlue, Colour::kMagenta, Colour::kCyan};
  uint32_t h = 2166136261u;  // FNV-1a over the lower-cased name
  for (char c : name) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    h = (h ^ static_cast<uint8_t>(l)) * 16777619u;
  }
  return kPalette[h % std::size(kPalette)];
}

std::string deliveryMark(Delivery d) {
  switch (d) {
    case Delivery::kSending:
      return "…";
    case Delivery::kStored:
      return "✓";
    case Delivery::kWaiting:
      return "◷";
    case Delivery::kDelivered:
      return "✓✓";
    case Delivery::kFailed:
      return "✗";
    case Delivery::kIncoming:
      return "";
  }
  return "";
}

namespace {

std::vector<Line> layoutLines(const Conversation& c, int width,
                              const ConversationViewOptions& options) {
  auto formatTime = options.formatTime ? options.formatTime : localTime;
  std::vector<Line> lines;
  for (const auto& m : c.messages) {
    if (c.awaySeparatorBefore != 0 && m.id == c.awaySeparatorBefore) {
      std::string label = " delivered while you were away ";
      int side = std::max(0, (width - displayWidth(label)) / 2);
      std::string rule;
      for (int i = 0; i < side; ++i) {
        rule += "─";
      }
      Line l;
      l.text = rule + label + rule;
      l.textStyle.dim = true;
      lines.push_back(l);
    }
    bool ours = m.delivery != Delivery::kIncoming;
    std::string prefix = formatTime(m.sentAtMillis) + " " + m.sender + ": ";
    int indent = std::min(displayWidth(prefix), std::max(width / 2, 1));
    std::string body = m.body;
    std::string mark = deliveryMark(m.delivery);
    bool settled = m.delivery != Delivery::kSending && m.delivery != Delivery::kFailed;
    if (c.isRoom() && ours && settled && m.recipients > 0) {
      // Delivered to n of the members it waits for: "✓✓ 3/5" ("✓ 0/5" before anyone).
      mark = std::string(m.deliveredTo.empty() ? "✓ " : "✓✓ ") +
             std::to_string(m.deliveredTo.size()) + "/" + std::to_string(m.recipients);
    }
    if (!mark.empty()) {
      body += " " + mark;
    }
    if (m.delivery == Delivery::kFailed) {
      body += " (failed: " + m.failure + "; Alt+R retries)";
    }
    auto wrapped = wrap(body, std::max(width - indent, 1));
    for (size_t i = 0; i < wrapped.size(); ++i) {
      Line l;
      l.messageId = m.id;
      if (i == 0) {
        l.prefix = prefix;
        l.prefixStyle.fg = colourOf(m.sender);
        l.prefixStyle.bold = !ours;
      }
      l.indent = indent;
      l.text = wrapped[i];
      l.textStyle.dim = m.delivery == Delivery::kSending;
      l.textStyle.fg = m.delivery == Delivery::kFailed ? Colour::kRed : Colour::kDefault;
      if (m.id != 0 && m.id == options.highlightId) {
        l.textStyle.reverse = true;
        l.prefixStyle.reverse = true;
      }
      lines.push_back(l);
    }
  }
  return lines;
}

}  // namespace

int messageLine(const Conversation& c, uint64_t id, int width,
                const ConversationViewOptions& options) {
  auto lines = layoutLines(c, width, options);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].messageId == id && id != 0) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

int conversationLineCount(const Conversation& c, int width,
                          const ConversationViewOptions& options) {
  return static_cast<int>(layoutLines(c, width, options).size());
}

int drawConversation(Canvas& canvas, const Conversation& c, const std::string& self, Rect area,
                     const ConversationViewOptions& options) {
  (void)self;
  std::vector<Line> lines = layoutLines(c, area.width, options);
  int total = static_cast<int>(lines.size());
  int last = std::max(total - options.scrollBack, 0);
  int first = std::max(last - area.height, 0);
  int row = area.y + area.height - (last - first);
  canvas.fill(area.x, area.y, area.width, area.height);
  for (int i = first; i < last; ++i, ++row) {
    const Line& l = lines[static_cast<size_t>(i)];
    if (!l.prefix.empty()) {
      canvas.put(area.x, row, l.prefix, l.prefixStyle, l.indent);
    }
    int x = l.prefix.empty() && l.indent == 0 ? area.x : area.x + l.indent;
    canvas.put(x, row, l.text, l.textStyle, area.width - (x - area.x));
  }
  return total;
}

}  // namespace chat::tui
