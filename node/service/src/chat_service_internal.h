// What the files of ChatService share (chat_service.cpp, chat_service_rooms.cpp): a
// connection's state as the service keeps it, and the request being handled.
// Thread contract: Context's fields are guarded by ChatService::mu_, but the immutable ones and
// the atomic.
#ifndef CHAT_SERVICE_CHAT_SERVICE_INTERNAL_H_
#define CHAT_SERVICE_CHAT_SERVICE_INTERNAL_H_

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "chat/service/chat_service.h"

namespace chat::service {

class Context {
 public:
  Context(const std::shared_ptr<ClientSession>& s, bool acks)
      : session(s), acksMessages(acks), address(s ? s->peerAddress() : std::string()) {}
  // Immutable after construction
  const std::weak_ptr<ClientSession> session;
  const bool acksMessages;
  const std::string address;
  // Set once a send on this connection was refused for a reason a retry can cure (no
  // leader, leadership changed): every later send on it is refused too, so the client
  // reconnects and re-sends them all in order. Otherwise a send still in flight behind the
  // refused one could be stored first, out of send order (chat-chaos found this).
  std::atomic<bool> sendsFenced{false};
  // Guarded by the service's mu_
  std::string user;  // display name; empty when not logged in
  std::string userKey;
  uint64_t uid = 0;  // the account the session acts for (a name can be re-created)
  std::set<std::string> watching;
  bool detached = false;
  // Its own account's deletion is in flight: ended by it without a push.
  bool deleting = false;
  // When this session last caused a typing push: at most one a second.
  std::optional<MonoTime> lastTypingPush;
};

struct ChatService::Request {
  ContextPtr context;
  uint64_t id;
  protocol::Opcode opcode;
  Reply reply;

  void fail(protocol::ErrorCode code, std::string message) const {
    reply(Response::failure(id, opcode, code, std::move(message)));
  }
  void ok(protocol::ReplyBody body) const {
    reply(Response{id, opcode, protocol::ErrorCode::kOk, "", std::move(body)});
  }
  // A peer named by the request is not a valid name (so no account has it).
  void failNoSuchUser(const std::string& name, const Status& why) const {
    fail(protocol::ErrorCode::kNoSuchUser,
         "no such user " + name.substr(0, 64) + " (" + why.message() + ")");
  }
  void storageError(const Status& s) const {
    fail(protocol::ErrorCode::kUnavailable,
         "the server could not read its storage (" + s.message() + "); try again shortly");
  }
};

struct ChatService::PendingAck {
  Request request;
  storage::AckBatchOp::Entry entry;
};

inline constexpr const char* kLoginFirst = "you are not logged in; log in first (opcode 2)";

}  // namespace chat::service

#endif  // CHAT_SERVICE_CHAT_SERVICE_INTERNAL_H_
