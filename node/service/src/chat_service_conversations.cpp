// ChatService: the conversation list and read markers. Which conversations an account has,
// their newest message ids and unread counts are state-machine state in memory
// (ChatState::conversations); the last messages' senders, times and first lines are read by
// id from the archive, once it holds them, for the page asked for only.
#include <algorithm>

#include "chat/service/chat_service.h"
#include "chat_service_internal.h"

namespace chat::service {

using protocol::ErrorCode;

void ChatService::conversations(Request& r, const protocol::ConversationsRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  uint32_t limit =
      q.limit == 0 ? options_.defaultPageSize : std::min(q.limit, options_.limits.maxPageSize);
  auto all = store_.conversations(who.name);
  if (!all) {
    return r.storageError(all.error());
  }
  protocol::ConversationsReply reply;
  reply.total = static_cast<uint32_t>(all->size());
  std::vector<uint64_t> lastIds;
  for (size_t i = q.offset; i < all->size() && reply.conversations.size() < limit; ++i) {
    const auto& c = (*all)[i];
    reply.conversations.push_back(protocol::ConversationEntry{
        c.peer, c.isRoom, c.lastId, "", 0, "", c.unread, c.moreUnread, c.readUpTo});
    if (c.lastId != 0) {
      lastIds.push_back(c.lastId);
    }
  }
  store_.whenReadable([this, r, who, reply = std::move(reply),
                       lastIds = std::move(lastIds)](const Status& ready) mutable {
    if (!ready.isOk()) {
      return r.storageError(ready);
    }
    if (!stillExists(who)) {
      return r.fail(ErrorCode::kSessionExpired,
                    "the account " + who.name + " was deleted; log in again");
    }
    auto messages = store_.messagesById(lastIds);
    if (!messages) {
      return r.storageError(messages.error());
    }
    std::unordered_map<uint64_t, const protocol::ChatMessage*> byId;
    for (const auto& m : *messages) {
      byId[m.id] = &m;
    }
    for (auto& c : reply.conversations) {
      if (auto it = byId.find(c.lastId); it != byId.end()) {
        c.lastSender = it->second->sender;
        c.lastAtMillis = it->second->sentAtMillis;
        c.firstLine = protocol::firstLineOf(it->second->body);
      }
    }
    r.ok(std::move(reply));
  });
}

void ChatService::markRead(Request& r, const protocol::MarkReadRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  if (protocol::isRoomName(q.peer)) {
    if (Status s = protocol::validateRoomName(q.peer, options_.limits); !s.isOk()) {
      return r.fail(ErrorCode::kNoSuchRoom, s.message());
    }
  } else if (Status s = protocol::validateUsername(q.peer, options_.limits); !s.isOk()) {
    return r.failNoSuchUser(q.peer, s);
  }
  // Lazy: a marker that waits for the next commit costs nobody anything (the user has seen
  // the messages; only the count on another terminal lags by a moment).
  log_.propose(
      storage::SetReadMarkerOp{who.name, who.uid, q.peer, q.upToId, clock_.wallMillis()},
      [r](Result<storage::ApplyResult> result) {
        if (!result) {
          return r.fail(ErrorCode::kUnavailable, result.error().message() + "; try again");
        }
        if (!result->isOk()) {
          return r.fail(result->code, result->error);
        }
        r.ok(protocol::EmptyReply{});
      },
      Urgency::kLazy);
}

}  // namespace chat::service
