// ChatService: rooms (docs/chat-semantics.md, "Rooms"). Membership changes and room messages
// are log records like everything else (operation.h); the rules live in the state machine
// (chat_state.cpp), so every node decides alike. Here: checking requests, answering them, and
// pushing what was applied to the members online on this node.
#include "chat/service/chat_service.h"
#include "chat_service_internal.h"

namespace chat::service {

using protocol::ErrorCode;
using protocol::Opcode;
using storage::nameKey;

namespace {

protocol::RoomEntry entryOf(const storage::RoomInfo& room, uint64_t viewerUid) {
  return protocol::RoomEntry{room.name, room.policy, static_cast<uint32_t>(room.members.size()),
                             room.hasMember(viewerUid), room.owner};
}

}  // namespace

void ChatService::createRoom(Request& r, const protocol::CreateRoomRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  if (Status s = protocol::validateRoomName(q.room, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kInvalidUsername, s.message());
  }
  proposeRoomChange(r, storage::CreateRoomOp{who.name, who.uid, q.room, q.access,
                                             clock_.wallMillis()});
}

void ChatService::joinRoom(Request& r, const protocol::JoinRoomRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  if (Status s = protocol::validateRoomName(q.room, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kNoSuchRoom, s.message());
  }
  proposeRoomChange(r, storage::JoinRoomOp{who.name, who.uid, q.room, clock_.wallMillis()});
}

void ChatService::leaveRoom(Request& r, const protocol::LeaveRoomRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  if (Status s = protocol::validateRoomName(q.room, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kNoSuchRoom, s.message());
  }
  proposeRoomChange(r, storage::LeaveRoomOp{who.name, who.uid, q.room, clock_.wallMillis()});
}

void ChatService::inviteToRoom(Request& r, const protocol::InviteToRoomRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  if (Status s = protocol::validateRoomName(q.room, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kNoSuchRoom, s.message());
  }
  if (Status s = protocol::validateUsername(q.user, options_.limits); !s.isOk()) {
    return r.failNoSuchUser(q.user, s);
  }
  proposeRoomChange(r, storage::InviteToRoomOp{who.name, who.uid, q.room, q.user,
                                               clock_.wallMillis()});
}

void ChatService::proposeRoomChange(Request& r, storage::Operation op) {
  log_.propose(std::move(op), [r](Result<storage::ApplyResult> result) {
    if (!result) {
      return r.fail(ErrorCode::kUnavailable, result.error().message() + "; try again");
    }
    if (!result->isOk()) {
      return r.fail(result->code, result->error);
    }
    r.ok(protocol::EmptyReply{});
  });
}

void ChatService::listRooms(Request& r, const protocol::ListRoomsRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  if (Status s = protocol::validatePattern(q.pattern, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kMalformed, s.message());
  }
  uint32_t limit =
      q.limit == 0 ? options_.defaultPageSize : std::min(q.limit, options_.limits.maxPageSize);
  auto page = store_.listRooms(q.pattern, q.offset, limit, who.uid);
  if (!page) {
    return r.storageError(page.error());
  }
  protocol::RoomListReply reply;
  reply.total = page->total;
  for (const auto& room : page->rooms) {
    reply.rooms.push_back(
        protocol::RoomEntry{room.name, room.policy, room.members, room.isMember, room.owner});
  }
  r.ok(std::move(reply));
}

std::optional<storage::RoomInfo> ChatService::roomOfMember(const Request& r, const Identity& who,
                                                           const std::string& room) {
  if (Status s = protocol::validateRoomName(room, options_.limits); !s.isOk()) {
    r.fail(ErrorCode::kNoSuchRoom, s.message());
    return std::nullopt;
  }
  auto found = store_.findRoom(room);
  if (!found) {
    r.storageError(found.error());
    return std::nullopt;
  }
  if (!found->has_value()) {
    r.fail(ErrorCode::kNoSuchRoom,
           "there is no room " + room + "; list rooms with /rooms or create it");
    return std::nullopt;
  }
  if (!(*found)->hasMember(who.uid)) {
    r.fail(ErrorCode::kNotMember, "you are not in " + (*found)->name + "; join it first");
    return std::nullopt;
  }
  return std::move(*found);
}

void ChatService::roomMembers(Request& r, const protocol::RoomMembersRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  if (Status s = protocol::validateRoomName(q.room, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kNoSuchRoom, s.message());
  }
  auto found = store_.findRoom(q.room);
  if (!found) {
    return r.storageError(found.error());
  }
  // An invite-only room is seen by its members only: to others it does not exist.
  if (!found->has_value() ||
      ((*found)->policy != storage::RoomPolicy::kOpen && !(*found)->hasMember(who.uid))) {
    return r.fail(ErrorCode::kNoSuchRoom,
                  "there is no room " + q.room + " you can see; list rooms with /rooms");
  }
  const storage::RoomInfo& room = **found;
  protocol::RoomMembersReply reply{entryOf(room, who.uid), {}};
  MutexLock lock(mu_);
  for (const auto& m : room.members) {
    reply.members.push_back(
        protocol::UserEntry{m.name, onlineByUid_.contains(m.uid), m.lastSeenMillis});
  }
  r.ok(std::move(reply));
}

void ChatService::typingInRoom(Request& r, const Identity& who, const std::string& room,
                               bool due) {
  auto found = roomOfMember(r, who, room);
  if (!found) {
    return;
  }
  if (due) {
    std::vector<uint64_t> uids;
    for (const auto& m : found->members) {
      uids.push_back(m.uid);
    }
    for (const auto& member : onlineSessionsOf(uids, who.uid)) {
      if (member.acks) {
        member.session->push(protocol::TypingPush{who.name, found->name});
      }
    }
  }
  r.ok(protocol::EmptyReply{});
}

std::vector<ChatService::OnlineMember> ChatService::onlineSessionsOf(
    const std::vector<uint64_t>& uids, uint64_t except) {
  std::vector<OnlineMember> out;
  MutexLock lock(mu_);
  for (uint64_t uid : uids) {
    if (uid == except) {
      continue;
    }
    auto it = onlineByUid_.find(uid);
    if (it == onlineByUid_.end()) {
      continue;
    }
    if (auto session = it->second->session.lock()) {
      out.push_back(OnlineMember{std::move(session), it->second->acksMessages, uid,
                                 it->second->user});
    }
  }
  return out;
}

void ChatService::onRoomMessageApplied(const storage::StoreRoomMessageOp& op,
                                       const storage::ApplyResult& result) {
  if (result.duplicate) {
    return;  // pushed (or waiting) already under its first id
  }
  metrics_.messagesReceived.add();
  protocol::ChatMessage m{result.id, op.sender, result.room, op.body, op.sentAtMillis, false};
  for (const auto& member : onlineSessionsOf(result.recipients, 0)) {
    if (member.acks) {
      member.session->push(protocol::MessagePush{m});
      continue;
    }
    // A line client cannot ack: record the hand-over, then write the message (as for a
    // private message), so that a deliver after it never hands the message over again.
    log_.propose(
        storage::MarkDeliveredOp{member.name, {result.id}, clock_.wallMillis(), member.uid},
        [session = member.session, m](const Result<storage::ApplyResult>&) {
          session->push(protocol::MessagePush{m});
        });
  }
}

void ChatService::onRoomChangeApplied(const storage::Command& entry,
                                      const storage::ApplyResult& result) {
  if (result.duplicate) {
    return;  // a member already: nothing changed
  }
  int64_t at = clock_.wallMillis();
  std::vector<protocol::RoomPush> pushes;
  uint64_t actor = result.memberUid;  // told by its reply, not by a push
  if (std::holds_alternative<storage::JoinRoomOp>(entry.op)) {
    pushes.push_back({result.room, result.member, protocol::RoomEvent::kJoined, "", at});
  } else if (std::holds_alternative<storage::LeaveRoomOp>(entry.op)) {
    pushes.push_back({result.room, result.member, protocol::RoomEvent::kLeft, "", at});
  } else if (const auto* op = std::get_if<storage::InviteToRoomOp>(&entry.op)) {
    pushes.push_back({result.room, result.member, protocol::RoomEvent::kInvited, op->inviter, at});
    actor = op->inviterUid;
  } else {
    return;  // a room created has its creator alone, who is answered
  }
  std::string newOwner;
  for (const auto& change : result.roomChanges) {
    if (!change.removed) {
      auto room = store_.findRoom(change.room);
      if (room && room->has_value() && (*room)->id == change.roomId) {
        newOwner = (*room)->owner;
      }
    }
  }
  if (!newOwner.empty()) {
    pushes.push_back({result.room, newOwner, protocol::RoomEvent::kOwner, "", at});
  }
  for (const auto& member : onlineSessionsOf(result.recipients, actor)) {
    if (!member.acks) {
      continue;  // line clients see messages only
    }
    for (const auto& push : pushes) {
      member.session->push(push);
    }
  }
}

}  // namespace chat::service
