// ClusterClient: a binary-protocol client of a whole cluster, for chat-tui, chat-bench,
// chat-chaos and the tests. It makes failover transparent:
// - it knows every node; a "not leader" reply sends it to the leader that reply names;
// - when its connection breaks it finds the leader again (ReconnectPolicy: next in line
//   first, then backoff with jitter) and resumes the session with the token of the last
//   login, so nobody is asked for a password again;
// - every request stays pending until answered and is re-sent with the same request id on
//   each new connection; the cluster applies a retried send once (its request-id table is
//   replicated), and acks are idempotent;
// - a node that stays silent while requests wait (a paused or cut-off leader keeps its TCP
//   connections open) is given up on after silenceTimeout;
// - a message id it has handed out is never handed out again (pushes and deliver replies are
//   filtered), and duplicates are acked for you.
// A request the cluster cannot answer within requestTimeout fails with kUnavailable (it may or
// may not have been applied): a send retried with submitAs() under its first id is stored
// once either way (while the first is among the cluster's newest 262,144 messages).
//
// Use: submit() requests, then either drive it from your own poll/epoll loop (fd(),
// wantsWrite(), pump(), nextEvent(), timeUntilWork()) or block with waitEvent() / call().
//
// Thread contract: not thread-safe; one thread drives a ClusterClient.
#ifndef CHAT_CLIENT_CLUSTER_CLIENT_H_
#define CHAT_CLIENT_CLUSTER_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "chat/client/connection.h"
#include "chat/client/reconnect_policy.h"
#include "chat/common/clock.h"
#include "chat/common/status.h"
#include "chat/protocol/messages.h"

namespace chat::client {

struct ClusterClientOptions {
  std::vector<std::string> servers;  // host:port of every node, in succession order
  Millis connectTimeout{1000};
  Millis requestTimeout{30000};  // a request unanswered this long fails
  // A node that says nothing this long while requests wait for it is presumed hung (paused,
  // cut off): the client moves on to the next node. A healthy leader answers in
  // milliseconds; the slowest request, a login, takes one password hash.
  Millis silenceTimeout{2000};
  // An idle client pings this often, so that a hung node is noticed even when nothing is
  // being sent (messages for this client would otherwise wait unseen on the new leader).
  Millis keepaliveInterval{3000};
  Millis minBackoff{20};
  Millis maxBackoff{2000};
  size_t rememberedMessageIds = 65536;  // for dropping duplicates
  protocol::Limits limits;
  uint64_t seed = 0;  // for ids and jitter; 0 = from the OS
  std::shared_ptr<tls::TlsContext> tls;  // set: every connection is TLS, checked against its CA
  // What the timeouts, retries, keepalives and backoff are measured on; null: the system's.
  // A test passes a FakeClock and drives the client with pump() and nextEvent(). REQUIRES:
  // outlives the client.
  const Clock* clock = nullptr;
};

// Something that happened to the connection, for status lines and banners.
struct ConnectionEvent {
  enum class Kind {
    kConnected,      // a connection to `address` is up (not yet known to be the leader)
    kLost,           // the connection broke; `detail` says why
    kRedirected,     // the node does not lead; going to `address` (empty: asking around)
    kResumed,        // the session was taken up again on `address`; `resent` requests re-sent
    kSessionLost,    // the saved session was refused (`detail`); log in again
  };
  Kind kind = Kind::kConnected;
  std::string address;
  std::string detail;
  size_t resent = 0;
};

using ClientEvent = std::variant<protocol::Response, protocol::Push, ConnectionEvent>;

class ClusterClient {
 public:
  // REQUIRES: options.servers is not empty. Connects lazily (on the first pump).
  explicit ClusterClient(ClusterClientOptions options);
  ~ClusterClient();
  ClusterClient(const ClusterClient&) = delete;  // owns a connection
  ClusterClient& operator=(const ClusterClient&) = delete;

  // Queues a request; its response comes back as an event with the returned id. A login
  // that succeeds is remembered for resuming; a logout or a deletion of the account forgets it.
  // Nothing is written until flush() or pump(), so that a batch goes out in one write.
  uint64_t submit(protocol::Request request);
  // As submit(), under `requestId`: the id of an earlier request that failed (a send retried
  // by hand is then recognised by the cluster as the same send). An id still pending is given
  // a fresh one instead (two requests must never share one).
  uint64_t submitAs(uint64_t requestId, protocol::Request request);
  // Writes what is queued without blocking.
  void flush();

  // Does what can be done now without blocking (except for a connect attempt, which waits
  // at most connectTimeout): connect when due, write, read, retry, expire.
  void pump();
  std::optional<ClientEvent> nextEvent();
  // The socket to watch (-1 while disconnected) and whether to watch it for writing.
  int fd() const;
  bool wantsWrite() const;
  // How long until pump() has timed work to do (a reconnect, a retry, an expiry).
  Millis timeUntilWork() const;

  // Blocking helpers built on the above. waitEvent returns nullopt on timeout; call keeps
  // the other events for nextEvent(). call fails with kTimeout when no reply came in time.
  // They wait in the OS (poll, sleep), so their own timeouts are real time whatever the
  // clock; the client's timers inside them still run on options.clock.
  std::optional<ClientEvent> waitEvent(Millis timeout);
  Result<protocol::Response> call(const protocol::Request& request, Millis timeout);

  // Drops the connection (reported as kLost with `why`) and finds the leader again at once;
  // pending requests are re-sent on the new connection as after any failover.
  void reconnectNow(const std::string& why);

  bool isConnected() const { return connection_ != nullptr; }
  // Why the latest connect attempt failed ("" once one succeeds): a refused port, a
  // timeout, a certificate that did not verify. For status lines while no node answers.
  const std::string& lastConnectError() const { return lastConnectError_; }
  const std::string& address() const { return address_; }  // current or last node
  const std::string& user() const { return user_; }          // logged-in user, or empty
  size_t pendingCount() const { return pending_.size(); }
  uint64_t reconnects() const { return reconnects_; }

 private:
  struct Pending {
    protocol::Request request;
    MonoTime deadline;
    MonoTime resendAt;  // for retries after "unavailable"
    bool sentOnThisConnection = false;
  };

  void scheduleReconnect();
  void connectNow();
  void redirect(const protocol::NotLeaderReply& hint);
  void dropConnection(const std::string& why, bool nodeFailed);
  void sendDue();
  void readAll();
  void handle(protocol::ServerMessage message);
  void handleResponse(protocol::Response response);
  void handlePush(protocol::Push push);
  // True if the id was not seen before (and remembers it).
  bool firstSighting(uint64_t messageId);
  void ackDuplicates(std::vector<uint64_t> ids);
  void expire();
  uint64_t nextId() { return idBase_ + ++idCounter_; }

  ClusterClientOptions options_;
  const Clock& clock_;
  ReconnectPolicy policy_;
  std::unique_ptr<Connection> connection_;
  std::string lastConnectError_;
  std::string address_;
  MonoTime reconnectAt_;
  MonoTime lastHeard_;  // last message from the node, or when it was last idle
  std::string nextAddress_;
  uint64_t idBase_;
  uint64_t idCounter_ = 0;
  std::map<uint64_t, Pending> pending_;  // by id, so re-sends keep submission order
  std::unordered_set<uint64_t> internal_;  // ids of requests the client made itself
  uint64_t resumeId_ = 0;
  size_t resentOnConnect_ = 0;
  std::string user_;
  std::string token_;
  std::deque<ClientEvent> events_;
  std::unordered_set<uint64_t> seenIds_;
  std::deque<uint64_t> seenOrder_;
  uint64_t reconnects_ = 0;
  bool everConnected_ = false;
};

}  // namespace chat::client

#endif  // CHAT_CLIENT_CLUSTER_CLIENT_H_
