// ChatService: the chat semantics of DESIGN.md (accounts, sessions, private messages,
// delivery, history) as pure logic over a MessageStore for reads and a CommitLog for
// writes. No sockets: connections reach it through ClientSession and Context.
//
// Every change is an operation record proposed to the CommitLog; a request that changes
// state is answered only after its record is durable (committed) and applied.
//
// Thread contract: all public methods are thread-safe. Replies (`Reply`) run on the calling
// thread, the executor or the commit thread; they must not block.
#ifndef CHAT_SERVICE_CHAT_SERVICE_H_
#define CHAT_SERVICE_CHAT_SERVICE_H_

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/common/clock.h"
#include "chat/common/metrics.h"
#include "chat/common/mutex.h"
#include "chat/protocol/messages.h"
#include "chat/service/client_session.h"
#include "chat/service/commit_log.h"
#include "chat/service/executor.h"
#include "chat/service/login_throttle.h"
#include "chat/service/password_hasher.h"
#include "chat/service/rate_limiter.h"
#include "chat/service/session_tokens.h"
#include "chat/storage/message_store.h"

namespace chat::service {

// A connection's state as the service sees it. Created by attach(), ended by detach().
class Context;
using ContextPtr = std::shared_ptr<Context>;

struct ServiceOptions {
  protocol::Limits limits;
  uint32_t defaultPageSize = 100;
  size_t maxWatchedUsers = 1000;  // presence subscriptions per session
  // Deliver and history replies stop adding messages past this many body bytes; the reply
  // says how many still wait, so the client asks again. Keeps every reply far below the
  // connection's output limit.
  size_t maxReplyBytes = size_t{1} << 20;
  // Signs session tokens; every node of a cluster needs the same key. Unset: a random key,
  // so tokens die with the process.
  std::optional<SessionKey> sessionKey;
  // A token resumes its session until this long after the password login the session began
  // with (a resume does not extend it).
  std::chrono::milliseconds sessionLifetime = std::chrono::hours(24);
  // Password guessing: lockouts per account and per address (login_throttle.h).
  LoginThrottleOptions loginThrottle;
  // Accounts one address may create a minute, after a first burst of as many (0: no limit).
  uint32_t signUpsPerMinute = 30;
  // Messages one account may send a second, after a first burst of ten seconds' worth (0: no
  // limit). Far above typing and pasting; keeps one account from taking the log's throughput.
  uint32_t sendsPerSecond = 50;
};

// Filled in by the node: what status reports beyond the service's own counters.
using StatusSource = std::function<protocol::NodeStatus()>;
// Filled in by a clustered node: nullopt while this node leads, else where the leader is.
using LeaderCheck = std::function<std::optional<protocol::NotLeaderReply>()>;

// What the service counts for /metrics. Received and delivered count applied records, so
// every node of a cluster reports the same figures for the same log; the commit latency is
// measured where the send was proposed (on the leader).
struct ServiceMetrics {
  Counter messagesReceived;   // messages stored (a retried send counts once)
  Counter messagesDelivered;  // messages handed to their recipient (acknowledged)
  Counter sendsRefused;       // sends that reached the log and were not stored
  Counter loginsRefused;      // wrong passwords, unknown users, throttled attempts
  LatencyHistogram commitLatency;  // a send from proposal to applied, on the proposing node
};

class ChatService final : public ApplyObserver {
 public:
  using Reply = std::function<void(protocol::Response)>;

  // All references must outlive the service. Registers itself as the log's observer.
  ChatService(const Clock& clock, storage::MessageStore& store, CommitLog& log,
              const PasswordHasher& hasher, Executor& slowWork, ServiceOptions options);
  ~ChatService() override;  // out of line: it owns PendingAcks, defined in the .cpp
  ChatService(const ChatService&) = delete;
  ChatService& operator=(const ChatService&) = delete;

  // A new client connection. `session` is held weakly: a closed connection simply vanishes.
  ContextPtr attach(const std::shared_ptr<ClientSession>& session) EXCLUDES(mu_);
  // The connection closed: its session ends (last seen recorded, watchers told).
  void detach(const ContextPtr& context) EXCLUDES(mu_);

  // Handles one request; `reply` is called exactly once with the response.
  void handle(const ContextPtr& context, uint64_t requestId, const protocol::Request& request,
              Reply reply) EXCLUDES(mu_);

  void setStatusSource(StatusSource source) { statusSource_ = std::move(source); }
  // REQUIRES: set before the first request. Without one, the node serves everything.
  void setLeaderCheck(LeaderCheck check) { leaderCheck_ = std::move(check); }
  size_t sessionCount() const EXCLUDES(mu_);
  // True while the connection's session is logged in.
  bool isLoggedIn(const ContextPtr& context) const EXCLUDES(mu_) {
    return loggedIn(context).isLoggedIn();
  }
  const ServiceMetrics& metrics() const { return metrics_; }

  // ApplyObserver: pushes for records applied by the log.
  void onApplied(const storage::Command& entry, const storage::ApplyResult& result) override
      EXCLUDES(mu_);

 private:
  using Response = protocol::Response;
  struct Request;  // the request being handled, with its reply
  // Who a session acts for: the account by uid (a name can be deleted and re-created).
  struct Identity {
    std::string name;
    uint64_t uid = 0;  // 0: not logged in (uids are log indexes, from 1)
    bool isLoggedIn() const { return uid != 0; }
  };

  void create(Request& r, const protocol::CreateRequest& q);
  void list(Request& r, const protocol::ListRequest& q) EXCLUDES(mu_);
  void login(Request& r, const protocol::LoginRequest& q);
  void resume(Request& r, const protocol::ResumeRequest& q);
  void send(Request& r, const protocol::SendRequest& q) EXCLUDES(mu_);
  void deleteAccount(Request& r, const protocol::DeleteAccountRequest& q);
  void deliver(Request& r, const protocol::DeliverRequest& q);
  void logout(Request& r) EXCLUDES(mu_);
  void history(Request& r, const protocol::HistoryRequest& q) EXCLUDES(mu_);
  void ack(Request& r, const protocol::AckRequest& q) EXCLUDES(mu_, acksMu_);
  // Proposes the acks gathered so far as one AckBatch record; when it is applied, answers
  // them and proposes what gathered meanwhile (one batch in flight: group commit for acks).
  void proposeAcks() EXCLUDES(acksMu_);
  void status(Request& r) EXCLUDES(mu_);
  void typing(Request& r, const protocol::TypingRequest& q) EXCLUDES(mu_);
  // Rooms (chat_service_rooms.cpp).
  void createRoom(Request& r, const protocol::CreateRoomRequest& q);
  void joinRoom(Request& r, const protocol::JoinRoomRequest& q);
  void leaveRoom(Request& r, const protocol::LeaveRoomRequest& q);
  void inviteToRoom(Request& r, const protocol::InviteToRoomRequest& q);
  void listRooms(Request& r, const protocol::ListRoomsRequest& q);
  void roomMembers(Request& r, const protocol::RoomMembersRequest& q) EXCLUDES(mu_);
  // The conversation list and read markers (chat_service_conversations.cpp).
  void conversations(Request& r, const protocol::ConversationsRequest& q);
  void markRead(Request& r, const protocol::MarkReadRequest& q);
  // Proposes a room membership record and answers once it is applied.
  void proposeRoomChange(Request& r, storage::Operation op);
  // The room named `room` if `who` is in it; else replies with why not.
  std::optional<storage::RoomInfo> roomOfMember(const Request& r, const Identity& who,
                                                const std::string& room);
  void typingInRoom(Request& r, const Identity& who, const std::string& room, bool due)
      EXCLUDES(mu_);
  // Pushes for applied room records: a room message to its online members, a membership
  // change to the room's online members.
  void onRoomMessageApplied(const storage::StoreRoomMessageOp& op,
                            const storage::ApplyResult& result) EXCLUDES(mu_);
  void onRoomChangeApplied(const storage::Command& entry, const storage::ApplyResult& result)
      EXCLUDES(mu_);
  // The sessions of these accounts (but `except`) that are online on this node.
  struct OnlineMember {
    std::shared_ptr<ClientSession> session;
    bool acks = true;  // a binary client (acknowledges what it is pushed)
    uint64_t uid = 0;
    std::string name;
  };
  std::vector<OnlineMember> onlineSessionsOf(const std::vector<uint64_t>& uids, uint64_t except)
      EXCLUDES(mu_);

  // Checks the name and password (on the slow-work executor) and calls `then` with the
  // account, or replies with the error. `unknownHint` is added to a "no such user" reply.
  void authenticate(const Request& r, const std::string& username, const std::string& password,
                    const char* unknownHint, std::function<void(const storage::Account&)> then);
  void deleteAuthenticated(const Request& r, const storage::Account& account) EXCLUDES(mu_);
  // Starts the session for the account `claim` names, if it still exists (and, `resuming`,
  // was not logged out since), taking it over from any other connection; replies with a
  // LoginReply under `opcode` (login or resume) whose token carries the claim's login time.
  void finishLogin(const ContextPtr& context, const SessionClaim& claim, bool resuming,
                   uint64_t requestId, protocol::Opcode opcode, const Reply& reply)
      EXCLUDES(mu_);
  // Hands the waiting messages over once the store can read them (MessageStore::whenReadable).
  void handOver(const ContextPtr& context, const Identity& user, uint32_t max,
                const Reply& reply, uint64_t requestId, protocol::Opcode opcode);
  void handOverNow(const ContextPtr& context, const Identity& user, uint32_t max,
                   const Reply& reply, uint64_t requestId, protocol::Opcode opcode);
  // Ends the context's session, if any (logout, disconnect, deletion). Returns who it was.
  Identity endSession(const ContextPtr& context, bool recordLastSeen) EXCLUDES(mu_);
  // The context is no longer logged in: out of online_, its fields cleared, nothing watched.
  void leaveSession(const ContextPtr& context) REQUIRES(mu_);
  // Ends this node's session of account `uid` (0: of whichever account) named `name`, telling
  // its client `reason`: the account was deleted or logged out, on this node or another.
  void endSessionsOf(const std::string& name, uint64_t uid, const std::string& reason)
      EXCLUDES(mu_);
  // True while `who`'s account exists (not deleted, not re-created under its name).
  bool stillExists(const Identity& who);
  void watch(const ContextPtr& context, const std::string& name) REQUIRES(mu_);
  void unwatchAll(Context& context) REQUIRES(mu_);
  void notifyPresence(const std::string& user, bool online) EXCLUDES(mu_);
  std::shared_ptr<ClientSession> onlineSession(const std::string& nameKey) EXCLUDES(mu_);
  Identity loggedIn(const ContextPtr& context) const EXCLUDES(mu_);

  // Immutable after construction
  const Clock& clock_;
  storage::MessageStore& store_;
  CommitLog& log_;
  const PasswordHasher& hasher_;
  Executor& slowWork_;
  const ServiceOptions options_;
  StatusSource statusSource_;
  LeaderCheck leaderCheck_;
  const SessionTokens tokens_;
  LoginThrottle throttle_;          // thread-safe on its own
  RateLimiter<std::string> signUpRate_;  // per address; thread-safe on its own
  RateLimiter<uint64_t> sendRate_;       // per account uid; thread-safe on its own
  ServiceMetrics metrics_;  // thread-safe on its own

  // Acks waiting for the batch in flight to commit. Bounded: each connection has at most 256
  // requests in the service.
  struct PendingAck;
  Mutex acksMu_;
  std::vector<PendingAck> pendingAcks_ GUARDED_BY(acksMu_);
  bool ackBatchInFlight_ GUARDED_BY(acksMu_) = false;

  mutable Mutex mu_;
  // Logged-in sessions by name key, and by account uid (room pushes name members by uid).
  std::map<std::string, ContextPtr> online_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, ContextPtr> onlineByUid_ GUARDED_BY(mu_);
  // Presence subscriptions: name key -> contexts watching it.
  std::map<std::string, std::set<Context*>> watchers_ GUARDED_BY(mu_);
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_CHAT_SERVICE_H_
