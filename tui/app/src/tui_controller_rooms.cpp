// TuiController, rooms and the conversation list: the room commands (/join, /leave, /invite,
// /members, /rooms, /create, /receipts), their replies, room events pushed by the server, the
// conversation list at login, and the read markers sent back as the user reads.
#include <algorithm>

#include "chat/tui/tui_controller.h"
#include "controller_helpers.h"

namespace chat::tui {

namespace {

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out.empty() ? "nobody" : out;
}

std::string roomLine(const protocol::RoomEntry& e) {
  return e.name + " (" + protocol::roomAccessName(e.access) + ", " + std::to_string(e.members) +
         (e.members == 1 ? " member" : " members") + (e.joined ? ", joined" : "") + ")";
}

}  // namespace

std::string TuiController::roomArgument(const std::string& arg, const char* command,
                                        int64_t now) {
  if (!arg.empty()) {
    if (!protocol::isRoomName(arg)) {
      state_.notify(std::string(command) + ": a room name starts with '#', e.g. #general", now,
                    true);
      return "";
    }
    return arg;
  }
  if (const Conversation* c = model_.active(); c != nullptr && c->isRoom()) {
    return c->peer;
  }
  state_.notify(std::string("usage: ") + findCommand(command)->usage +
                    " (no room is shown to default to)",
                now, true);
  return "";
}

bool TuiController::runRoomCommand(const ParsedCommand& cmd, int64_t now) {
  const std::string& n = cmd.name;
  auto usage = [&] {
    state_.notify(std::string("usage: ") + findCommand(n)->usage, now, true);
  };
  if (n == "/join" || n == "/create") {
    if (cmd.arg.empty()) {
      usage();
      return true;
    }
    std::string room = roomArgument(cmd.arg, n.c_str(), now);
    if (room.empty()) {
      return true;
    }
    if (n == "/join") {
      request(protocol::JoinRoomRequest{room}, PendingRequest{Purpose::kJoin, 0, room, now});
      return true;
    }
    auto access = protocol::RoomAccess::kOpen;
    if (!cmd.rest.empty()) {
      auto parsed = protocol::roomAccessFromName(cmd.rest);
      if (!parsed) {
        usage();
        return true;
      }
      access = *parsed;
    }
    request(protocol::CreateRoomRequest{room, access},
            PendingRequest{Purpose::kCreateRoom, 0, room, now});
  } else if (n == "/leave" || n == "/members") {
    std::string room = roomArgument(cmd.arg, n.c_str(), now);
    if (room.empty()) {
      return true;
    }
    if (n == "/leave") {
      request(protocol::LeaveRoomRequest{room}, PendingRequest{Purpose::kLeave, 0, room, now});
    } else {
      request(protocol::RoomMembersRequest{room}, PendingRequest{Purpose::kMembers, 0, room, now});
    }
  } else if (n == "/invite") {
    if (cmd.arg.empty()) {
      usage();
      return true;
    }
    std::string room = roomArgument(cmd.rest, n.c_str(), now);
    if (room.empty()) {
      return true;
    }
    request(protocol::InviteToRoomRequest{room, cmd.arg},
            PendingRequest{Purpose::kInvite, 0, cmd.arg + " " + room, now});
  } else if (n == "/rooms") {
    request(protocol::ListRoomsRequest{cmd.arg, 0, 100},
            PendingRequest{Purpose::kRooms, 0, cmd.arg, now});
  } else if (n == "/receipts") {
    std::string room = roomArgument("", n.c_str(), now);
    if (room.empty()) {
      return true;
    }
    // Who is in the room now; the reply is set against the last own message's receipts.
    request(protocol::RoomMembersRequest{room}, PendingRequest{Purpose::kReceipts, 0, room, now});
  } else {
    return false;
  }
  return true;
}

void TuiController::onRoomResponse(const PendingRequest& p, const protocol::Response& r,
                                   int64_t now) {
  if (!r.isOk()) {
    if (p.purpose == Purpose::kMarkRead) {
      readMarkerSent_.erase(lowerName(p.name));  // try again at the next flush
      return;
    }
    if (!p.quiet) {
      state_.notify(r.error, now, true);
    }
    return;
  }
  switch (p.purpose) {
    case Purpose::kConversations:
      if (const auto* list = bodyAs<protocol::ConversationsReply>(r)) {
        bool none = model_.active() == nullptr;
        model_.conversationList(*list);
        for (const auto& c : list->conversations) {
          readMarkerSent_[lowerName(c.peer)] = c.readUpTo;
        }
        if (none && !model_.conversations().empty()) {
          model_.select(0);  // the newest conversation
          selected();
        }
      }
      return;
    case Purpose::kRooms:
      if (const auto* list = bodyAs<protocol::RoomListReply>(r)) {
        model_.rooms(list->rooms);
        if (!p.quiet) {
          std::string lines;
          for (const auto& e : list->rooms) {
            lines += (lines.empty() ? "" : "; ") + roomLine(e);
          }
          state_.notify(std::to_string(list->total) + (list->total == 1 ? " room" : " rooms") +
                            (p.name.empty() ? "" : " matching " + p.name) + ": " +
                            (lines.empty() ? "none (/create #name makes one)" : lines),
                        now);
        }
      }
      return;
    case Purpose::kMembers:
    case Purpose::kReceipts:
      if (const auto* m = bodyAs<protocol::RoomMembersReply>(r)) {
        model_.roomMembers(*m);
        if (p.purpose == Purpose::kMembers && p.quiet) {
          return;  // a refresh for the title
        }
        if (p.purpose == Purpose::kMembers) {
          std::vector<std::string> names;
          for (const auto& u : m->members) {
            names.push_back(u.name + (u.online ? " ●" : ""));
          }
          state_.notify(roomLine(m->room) + ", owner " + m->room.owner + ": " + joinNames(names),
                        now);
          return;
        }
        // /receipts: the last own message of the room, against its members.
        const Conversation* c = model_.find(p.name);
        const Message* last = nullptr;
        if (c != nullptr) {
          for (const auto& msg : c->messages) {
            if (msg.delivery != Delivery::kIncoming && msg.id != 0) {
              last = &msg;
            }
          }
        }
        if (last == nullptr) {
          state_.notify("you have sent nothing in " + p.name + " in this session", now);
          return;
        }
        std::vector<std::string> has;
        std::vector<std::string> waiting;
        for (const auto& u : m->members) {
          if (protocol::sameUsername(u.name, model_.self())) {
            continue;
          }
          bool got = std::any_of(last->deliveredTo.begin(), last->deliveredTo.end(),
                                 [&](const std::string& d) { return protocol::sameUsername(d, u.name); });
          (got ? has : waiting).push_back(u.name);
        }
        state_.notify("your last message in " + p.name + ": delivered to " + joinNames(has) +
                          (waiting.empty() ? "" : "; not yet to " + joinNames(waiting)),
                      now);
      }
      return;
    case Purpose::kJoin:
    case Purpose::kCreateRoom:
      openConversation(p.name);
      state_.notify(p.purpose == Purpose::kJoin
                        ? "you are in " + p.name + "; /members shows who else is"
                        : "room " + p.name + " created; /invite user adds people",
                    now);
      request(protocol::RoomMembersRequest{p.name},
              PendingRequest{Purpose::kMembers, 0, p.name, now, true});
      return;
    case Purpose::kLeave:
      model_.close(p.name);
      historyFetched_.erase(lowerName(p.name));
      selected();
      state_.notify("you left " + p.name, now);
      return;
    case Purpose::kInvite: {
      std::string room = p.name.substr(p.name.find(' ') + 1);
      state_.notify(p.name.substr(0, p.name.find(' ')) + " is in " + room + " now", now);
      refreshMembers(room, now);  // the inviter hears no push of its own invitation
      return;
    }
    case Purpose::kMarkRead:
    default:
      return;
  }
}

void TuiController::onRoomPush(const protocol::RoomPush& push, int64_t now) {
  bool me = protocol::sameUsername(push.user, model_.self());
  std::string text;
  switch (push.event) {
    case protocol::RoomEvent::kJoined:
      text = push.user + " joined " + push.room;
      break;
    case protocol::RoomEvent::kLeft:
      text = push.user + " left " + push.room;
      break;
    case protocol::RoomEvent::kInvited:
      if (me) {
        // Added by someone: the room is one of ours now.
        model_.open(push.room);
        text = push.by + " added you to " + push.room;
      } else {
        text = push.by + " added " + push.user + " to " + push.room;
      }
      break;
    case protocol::RoomEvent::kOwner:
      text = (me ? std::string("you own ") : push.user + " owns ") + push.room + " now";
      break;
  }
  state_.notify(text, now);
  refreshMembers(push.room, now);
}

void TuiController::refreshMembers(const std::string& room, int64_t now) {
  // Only a room whose members are shown (its header counts them).
  if (const Conversation* c = model_.find(room); c != nullptr && !c->members.empty()) {
    request(protocol::RoomMembersRequest{room},
            PendingRequest{Purpose::kMembers, 0, room, now, true});
  }
}

void TuiController::flushReadMarkers(int64_t now) {
  if (now - readMarkersFlushedAt_ < kReadMarkerEveryMillis) {
    return;
  }
  readMarkersFlushedAt_ = now;
  // Only the conversation shown is being read; its marker follows the newest message seen.
  const Conversation* c = model_.active();
  if (c == nullptr || c->readUpTo == 0) {
    return;
  }
  uint64_t& sent = readMarkerSent_[lowerName(c->peer)];
  if (c->readUpTo > sent) {
    sent = c->readUpTo;
    request(protocol::MarkReadRequest{c->peer, c->readUpTo},
            PendingRequest{Purpose::kMarkRead, 0, c->peer, now, true});
  }
}

}  // namespace chat::tui
