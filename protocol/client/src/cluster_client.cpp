#include "chat/client/cluster_client.h"

#include <poll.h>

#include <algorithm>
#include <thread>

#include "chat/common/check.h"
#include "chat/common/overloaded.h"
#include "chat/common/random.h"

namespace chat::client {

using protocol::ErrorCode;

namespace {

uint64_t seedOf(const ClusterClientOptions& o) {
  return o.seed != 0 ? o.seed : Random::entropySeed();
}

const Clock& clockOf(const ClusterClientOptions& o) {
  static const SystemClock kSystem;
  return o.clock != nullptr ? *o.clock : kSystem;
}

// The blocking helpers wait in the OS, so they count their own timeouts in real time.
using RealTime = std::chrono::steady_clock;

}  // namespace

ClusterClient::ClusterClient(ClusterClientOptions options)
    : options_(std::move(options)),
      clock_(clockOf(options_)),
      policy_(options_.servers, options_.minBackoff, options_.maxBackoff, seedOf(options_)),
      // Ids stay unique across connections and clients: a random high half and a counter.
      idBase_(Random(seedOf(options_) ^ 0x5DEECE66DULL).next() & 0xFFFFFFFF00000000ULL) {
  scheduleReconnect();
}

ClusterClient::~ClusterClient() = default;

uint64_t ClusterClient::submit(protocol::Request request) {
  return submitAs(0, std::move(request));
}

uint64_t ClusterClient::submitAs(uint64_t requestId, protocol::Request request) {
  uint64_t id = requestId != 0 && !pending_.contains(requestId) ? requestId : nextId();
  auto now = clock_.now();
  if (pending_.empty()) {
    lastHeard_ = now;  // idle time is not silence
  }
  Pending& p = pending_[id];
  p.request = std::move(request);
  p.deadline = now + options_.requestTimeout;
  p.resendAt = now;
  // Behind a request waiting to be re-sent it keeps its place in the queue (sendDue).
  bool queueFree = std::all_of(pending_.begin(), pending_.end(), [&](const auto& e) {
    return e.first == id || e.second.sentOnThisConnection;
  });
  if (connection_ && queueFree) {
    connection_->queueRequest(id, p.request);
    p.sentOnThisConnection = true;
  }
  return id;
}

void ClusterClient::flush() {
  if (connection_ && connection_->hasQueuedOutput()) {
    if (Status s = connection_->flush(Millis(0)); !s.isOk()) {
      dropConnection(s.message(), true);
    }
  }
}

void ClusterClient::scheduleReconnect() {
  auto attempt = policy_.next();
  nextAddress_ = std::move(attempt.address);
  reconnectAt_ = clock_.now() + attempt.delay;
}

void ClusterClient::connectNow() {
  address_ = nextAddress_;
  auto c = Connection::connect(address_, options_.connectTimeout, options_.limits,
                               options_.tls.get());
  if (!c) {
    lastConnectError_ = c.error().message();
    policy_.failed(address_);
    scheduleReconnect();
    return;
  }
  lastConnectError_.clear();
  connection_ = std::move(c).value();
  policy_.connected(address_);
  lastHeard_ = clock_.now();
  if (everConnected_) {
    ++reconnects_;
  }
  everConnected_ = true;
  events_.emplace_back(ConnectionEvent{ConnectionEvent::Kind::kConnected, address_, "", 0});
  if (!token_.empty()) {
    // First on the connection: the server handles it before anything queued behind it.
    resumeId_ = nextId();
    internal_.insert(resumeId_);
    connection_->queueRequest(resumeId_, protocol::ResumeRequest{token_});
  }
  resentOnConnect_ = pending_.size();
  for (auto& [id, p] : pending_) {
    p.sentOnThisConnection = false;
  }
  sendDue();
}

void ClusterClient::dropConnection(const std::string& why, bool nodeFailed) {
  if (!connection_) {
    return;
  }
  connection_.reset();
  internal_.clear();
  resumeId_ = 0;
  for (auto& [id, p] : pending_) {
    p.sentOnThisConnection = false;
  }
  if (nodeFailed) {
    events_.emplace_back(ConnectionEvent{ConnectionEvent::Kind::kLost, address_, why, 0});
    policy_.failed(address_);
  }
  scheduleReconnect();
}

void ClusterClient::reconnectNow(const std::string& why) {
  if (connection_) {
    events_.emplace_back(ConnectionEvent{ConnectionEvent::Kind::kLost, address_, why, 0});
    dropConnection("", false);  // the node did nothing wrong: not counted as a failure
  } else {
    scheduleReconnect();
  }
  reconnectAt_ = clock_.now();
}

void ClusterClient::redirect(const protocol::NotLeaderReply& hint) {
  std::string from = address_;
  if (hint.address.empty() || hint.address == address_) {
    // An election is under way: ask again shortly (or, if this keeps up, the next node).
    policy_.noLeaderYet(address_);
  } else {
    policy_.redirected(hint.address);
  }
  events_.emplace_back(
      ConnectionEvent{ConnectionEvent::Kind::kRedirected, hint.address,
                      hint.address.empty() ? from + " knows no leader yet"
                                           : from + " is not the leader; node " +
                                                 std::to_string(hint.nodeId) + " is",
                      0});
  dropConnection("", false);
}

void ClusterClient::sendDue() {
  if (!connection_) {
    return;
  }
  auto now = clock_.now();
  // In submission order, and never past a request that waits for its retry time: a
  // send overtaking an earlier one to the same recipient would be stored out of order.
  for (auto& [id, p] : pending_) {
    if (p.sentOnThisConnection) {
      continue;
    }
    if (p.resendAt > now) {
      break;
    }
    connection_->queueRequest(id, p.request);
    p.sentOnThisConnection = true;
  }
  flush();
}

void ClusterClient::pump() {
  if (!connection_ && clock_.now() >= reconnectAt_) {
    connectNow();
  }
  if (connection_) {
    readAll();
  }
  auto now = clock_.now();
  if (connection_ && pending_.empty() && internal_.empty() &&
      now - lastHeard_ > options_.keepaliveInterval) {
    uint64_t id = nextId();
    internal_.insert(id);
    connection_->queueRequest(id, protocol::PingRequest{id});
    lastHeard_ = now;  // the silence clock starts with the ping
  }
  if (connection_ && (!pending_.empty() || !internal_.empty()) &&
      now - lastHeard_ > options_.silenceTimeout) {
    dropConnection("no answer from " + address_ + " for " +
                       std::to_string(options_.silenceTimeout.count()) +
                       " ms; it may be paused or cut off",
                   true);
  }
  sendDue();
  expire();
}

void ClusterClient::readAll() {
  Status read = connection_->readAvailable();
  while (connection_) {
    auto message = connection_->takeBuffered();
    if (!message) {
      dropConnection(message.error().message(), true);
      return;
    }
    if (!message->has_value()) {
      break;
    }
    lastHeard_ = clock_.now();
    handle(std::move(**message));
  }
  if (!read.isOk()) {
    dropConnection(read.message(), true);
  }
}

void ClusterClient::handle(protocol::ServerMessage message) {
  std::visit(Overloaded{
                 [&](protocol::Response& r) { handleResponse(std::move(r)); },
                 [&](protocol::Push& p) { handlePush(std::move(p)); },
             },
             message);
}

void ClusterClient::handleResponse(protocol::Response response) {
  if (response.requestId == 0 && !response.isOk()) {
    // The node speaks about the connection itself before closing it (e.g. the port wants
    // TLS): say so to the user rather than only "connection lost".
    return dropConnection(address_ + " refused the connection: " + response.error, true);
  }
  if (internal_.erase(response.requestId) > 0) {
    if (response.requestId != resumeId_) {
      return;  // a keepalive ping or an ack of duplicates: nothing to report
    }
    resumeId_ = 0;
    if (response.code == ErrorCode::kNotLeader) {
      return redirect(std::get<protocol::NotLeaderReply>(response.body));
    }
    if (response.isOk()) {
      token_ = std::get<protocol::LoginReply>(response.body).sessionToken;
      policy_.succeeded(address_);
      events_.emplace_back(
          ConnectionEvent{ConnectionEvent::Kind::kResumed, address_, "", resentOnConnect_});
    } else if (response.code != ErrorCode::kUnavailable) {
      user_.clear();
      token_.clear();
      events_.emplace_back(
          ConnectionEvent{ConnectionEvent::Kind::kSessionLost, address_, response.error, 0});
    } else {
      // The node could not read its storage right now: try the session again shortly.
      dropConnection(response.error, true);
    }
    return;
  }
  auto it = pending_.find(response.requestId);
  if (it == pending_.end()) {
    return;  // a second answer to a request already answered (or given up on)
  }
  if (response.code == ErrorCode::kNotLeader) {
    return redirect(std::get<protocol::NotLeaderReply>(response.body));
  }
  auto now = clock_.now();
  if (response.code == ErrorCode::kUnavailable && now < it->second.deadline) {
    // The leader lost its majority before committing, or its storage hiccuped: the same
    // request id again shortly is safe.
    it->second.sentOnThisConnection = false;
    it->second.resendAt = now + options_.minBackoff * 2;
    return;
  }
  policy_.succeeded(address_);
  const protocol::Request& request = it->second.request;
  if (response.isOk()) {
    if (const auto* login = std::get_if<protocol::LoginRequest>(&request)) {
      user_ = login->username;
      token_ = std::get<protocol::LoginReply>(response.body).sessionToken;
    } else if (std::holds_alternative<protocol::LogoutRequest>(request)) {
      user_.clear();
      token_.clear();
    } else if (const auto* del = std::get_if<protocol::DeleteAccountRequest>(&request);
               del != nullptr && protocol::sameUsername(del->username, user_)) {
      user_.clear();
      token_.clear();
    } else if (auto* deliver = std::get_if<protocol::DeliverReply>(&response.body)) {
      std::vector<uint64_t> duplicates;
      std::erase_if(deliver->messages, [&](const protocol::ChatMessage& m) {
        if (firstSighting(m.id)) {
          return false;
        }
        duplicates.push_back(m.id);
        return true;
      });
      ackDuplicates(std::move(duplicates));
    }
  }
  pending_.erase(it);
  events_.emplace_back(std::move(response));
}

void ClusterClient::handlePush(protocol::Push push) {
  if (const auto* m = std::get_if<protocol::MessagePush>(&push)) {
    if (!firstSighting(m->message.id)) {
      return ackDuplicates({m->message.id});
    }
  } else if (std::holds_alternative<protocol::SessionEndedPush>(push)) {
    // Another connection took the account over: do not take it back behind the user's back.
    user_.clear();
    token_.clear();
  }
  events_.emplace_back(std::move(push));
}

bool ClusterClient::firstSighting(uint64_t messageId) {
  if (!seenIds_.insert(messageId).second) {
    return false;
  }
  seenOrder_.push_back(messageId);
  if (seenOrder_.size() > options_.rememberedMessageIds) {
    seenIds_.erase(seenOrder_.front());
    seenOrder_.pop_front();
  }
  return true;
}

void ClusterClient::ackDuplicates(std::vector<uint64_t> ids) {
  if (ids.empty() || !connection_) {
    return;
  }
  uint64_t id = nextId();
  internal_.insert(id);
  connection_->queueRequest(id, protocol::AckRequest{std::move(ids)});
}

void ClusterClient::expire() {
  auto now = clock_.now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    auto op = protocol::requestOpcode(it->second.request);
    events_.emplace_back(protocol::Response::failure(
        it->first, op, ErrorCode::kUnavailable,
        std::string("no leader answered this ") + protocol::opcodeName(op) + " within " +
            std::to_string(options_.requestTimeout.count() / 1000) +
            " s (the cluster may have lost its majority); it may or may not have been "
            "applied; try again when the cluster is back"));
    it = pending_.erase(it);
  }
}

std::optional<ClientEvent> ClusterClient::nextEvent() {
  if (events_.empty()) {
    return std::nullopt;
  }
  ClientEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

int ClusterClient::fd() const {
  return connection_ ? connection_->fd() : -1;
}

bool ClusterClient::wantsWrite() const {
  return connection_ && connection_->hasQueuedOutput();
}

Millis ClusterClient::timeUntilWork() const {
  if (!events_.empty()) {
    return Millis(0);
  }
  auto now = clock_.now();
  auto soonest = now + Millis(1000);
  if (!connection_) {
    soonest = std::min(soonest, reconnectAt_);
  }
  if (connection_) {
    bool waiting = !pending_.empty() || !internal_.empty();
    soonest = std::min(soonest, lastHeard_ + (waiting ? options_.silenceTimeout
                                                      : options_.keepaliveInterval));
  }
  for (const auto& [id, p] : pending_) {
    soonest = std::min(soonest, p.deadline);
    if (connection_ && !p.sentOnThisConnection) {
      soonest = std::min(soonest, p.resendAt);
    }
  }
  return std::max(Millis(0), std::chrono::ceil<Millis>(soonest - now));
}

std::optional<ClientEvent> ClusterClient::waitEvent(Millis timeout) {
  auto deadline = RealTime::now() + timeout;
  for (;;) {
    if (auto e = nextEvent()) {
      return e;
    }
    pump();
    if (auto e = nextEvent()) {
      return e;
    }
    auto left = std::chrono::ceil<Millis>(deadline - RealTime::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    auto wait = std::min(left, timeUntilWork());
    if (connection_) {
      pollfd p{connection_->fd(), static_cast<short>(POLLIN | (wantsWrite() ? POLLOUT : 0)), 0};
      ::poll(&p, 1, static_cast<int>(wait.count()));
    } else if (wait.count() > 0) {
      std::this_thread::sleep_for(wait);
    }
  }
}

Result<protocol::Response> ClusterClient::call(const protocol::Request& request, Millis timeout) {
  uint64_t id = submit(request);
  auto deadline = RealTime::now() + timeout;
  std::deque<ClientEvent> held;
  std::optional<protocol::Response> answer;
  while (!answer) {
    auto left = std::chrono::ceil<Millis>(deadline - RealTime::now());
    auto e = waitEvent(std::max(Millis(0), left));
    if (!e) {
      break;
    }
    if (auto* r = std::get_if<protocol::Response>(&*e); r != nullptr && r->requestId == id) {
      answer = std::move(*r);
    } else {
      held.push_back(std::move(*e));
    }
  }
  // Events that arrived meanwhile stay for nextEvent(), in order.
  events_.insert(events_.begin(), std::make_move_iterator(held.begin()),
                 std::make_move_iterator(held.end()));
  if (!answer) {
    pending_.erase(id);
    return Status::timeout(std::string("no reply to ") +
                           protocol::opcodeName(protocol::requestOpcode(request)) + " within " +
                           std::to_string(timeout.count()) + " ms");
  }
  return std::move(*answer);
}

}  // namespace chat::client
