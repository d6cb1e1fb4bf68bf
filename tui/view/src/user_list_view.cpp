#include "chat/tui/user_list_view.h"

#include <algorithm>

#include "chat/protocol/wire_types.h"
#include "chat/tui/text_width.h"

namespace chat::tui {

std::string agoText(int64_t thenMillis, int64_t nowMillis) {
  if (thenMillis <= 0) {
    return "";
  }
  int64_t s = std::max<int64_t>(0, (nowMillis - thenMillis) / 1000);
  if (s < 60) {
    return "now";
  }
  if (s < 3600) {
    return std::to_string(s / 60) + "m";
  }
  if (s < 86400) {
    return std::to_string(s / 3600) + "h";
  }
  return std::to_string(s / 86400) + "d";
}

std::vector<std::string> userListOrder(const ChatModel& model, const std::string& filter) {
  std::vector<std::string> out;
  for (const auto& c : model.conversations()) {
    out.push_back(c.peer);
  }
  for (const auto& r : model.knownRooms()) {
    if (model.find(r.name) == nullptr &&
        (filter.empty() || protocol::wildcardMatch(lowerName(filter), lowerName(r.name)))) {
      out.push_back(r.name);
    }
  }
  for (const auto& [key, u] : model.knownUsers()) {
    if (model.find(u.name) == nullptr && u.name != model.self() &&
        (filter.empty() || protocol::wildcardMatch(lowerName(filter), lowerName(u.name)))) {
      out.push_back(u.name);
    }
  }
  return out;
}

void drawUserList(Canvas& canvas, const ChatModel& model, Rect area, int64_t nowMillis,
                  const std::string& filter) {
  canvas.fill(area.x, area.y, area.width, area.height);
  int row = area.y;
  auto line = [&](const std::string& name, bool active, uint32_t unread, bool moreUnread) {
    if (row >= area.y + area.height) {
      return;
    }
    const User* u = model.user(name);
    bool online = u != nullptr && u->online;
    bool room = protocol::isRoomName(name);
    std::string right;
    if (unread > 0) {
      right = "(" + (moreUnread || unread > 99 ? std::string("99+") : std::to_string(unread)) + ")";
    } else if (u != nullptr && !online) {
      right = agoText(u->lastSeenMillis, nowMillis);
    }
    Style style;
    style.reverse = active;
    style.bold = unread > 0;
    canvas.fill(area.x, row, area.width, 1, style);
    Style marker = style;
    marker.fg = online ? Colour::kGreen : Colour::kDefault;
    marker.dim = !online;
    canvas.put(area.x, row, room ? "#" : online ? "●" : "○", room ? style : marker, 1);
    int rightWidth = displayWidth(right);
    int nameWidth = std::max(area.width - 2 - (rightWidth > 0 ? rightWidth + 1 : 0), 1);
    Style nameStyle = style;
    nameStyle.fg = colourOf(name);
    // A room shows without its '#' (the marker column has it).
    canvas.put(area.x + 2, row, room ? name.substr(1) : name, nameStyle, nameWidth);
    if (rightWidth > 0 && rightWidth < area.width - 2) {
      canvas.put(area.x + area.width - rightWidth, row, right, style, rightWidth);
    }
    ++row;
  };
  const Conversation* active = model.active();
  for (const auto& name : userListOrder(model, filter)) {
    const Conversation* c = model.find(name);
    line(name, c != nullptr && c == active, c != nullptr ? c->unread : 0,
         c != nullptr && c->moreUnread);
  }
}

}  // namespace chat::tui
