#include "failover_runner.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "chat/client/cluster_client.h"
#include "chat/client/connection.h"
#include "chat/cluster/cluster_config.h"
#include "chat/cluster/cluster_secret.h"
#include "chat/common/random.h"
#include "chat/launcher/node_launcher.h"
#include "chat/replication/socket_peer_transport.h"
#include "chat/supervisor/control_socket.h"

namespace chat::bench {

namespace {

using Clock = std::chrono::steady_clock;
using client::ClientEvent;
using client::ClusterClient;
using client::ConnectionEvent;
using client::Millis;
using namespace std::chrono_literals;

std::optional<protocol::NodeStatus> statusOf(const std::string& address) {
  return client::fetchStatus(address, 300ms, 1000ms);
}

class Cluster {
 public:
  Cluster(cluster::ClusterConfig config, std::string binary, std::string clusterFile,
          std::string runDir, std::string logLevel)
      : config_(std::move(config)),
        binary_(std::move(binary)),
        clusterFile_(std::move(clusterFile)),
        runDir_(std::move(runDir)),
        logLevel_(std::move(logLevel)) {}

  Status start(uint32_t id) {
    launcher::LaunchSpec spec;
    spec.binary = binary_;
    spec.args = {"--cluster", clusterFile_, "--id", std::to_string(id), "--password-hash", "min", "--sign-ups-per-minute", "0", "--sends-per-second", "0", "--max-connections-per-address", "0",
                 "--log-level", logLevel_};
    spec.logFile = runDir_ + "/node" + std::to_string(id) + ".log";
    auto child = launcher::ChildProcess::spawn(spec);
    if (!child) {
      return child.error();
    }
    children_[id] = std::move(child).value();
    // Ready when it answers.
    auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      if (statusOf(config_.node(id)->clientAddress())) {
        return Status::ok();
      }
      if (auto ended = children_[id].poll()) {
        return Status::unavailable("node " + std::to_string(id) + " ended at start-up (" +
                                   ended->describe() + "); see " + spec.logFile);
      }
      std::this_thread::sleep_for(20ms);
    }
    return Status::timeout("node " + std::to_string(id) + " did not answer within 20 s");
  }
  void kill(uint32_t id) {
    (void)children_[id].signal(SIGKILL);
    children_[id].wait(-1);
  }
  // The node that says it leads, or 0.
  uint32_t leader(Millis timeout) const {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      for (const auto& n : config_.nodes) {
        auto s = statusOf(n.clientAddress());
        if (s && s->role == "leader") {
          return n.id;
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return 0;
  }
  // The first node after `id` in succession order (wrapping).
  uint32_t nextInLine(uint32_t id) const {
    for (size_t i = 0; i < config_.nodes.size(); ++i) {
      if (config_.nodes[i].id == id) {
        return config_.nodes[(i + 1) % config_.nodes.size()].id;
      }
    }
    return 0;
  }
  const cluster::ClusterConfig& config() const { return config_; }

 private:
  cluster::ClusterConfig config_;
  std::string binary_;
  std::string clusterFile_;
  std::string runDir_;
  std::string logLevel_;
  std::map<uint32_t, launcher::ChildProcess> children_;
};

// One sender, one recipient, one send in flight.
class Conversation {
 public:
  Conversation(const std::vector<std::string>& servers, const std::string& run) {
    client::ClusterClientOptions o;
    o.servers = servers;
    o.requestTimeout = 60s;
    sender_ = std::make_unique<ClusterClient>(o);
    recipient_ = std::make_unique<ClusterClient>(o);
    senderName_ = "fo" + run + "s";
    recipientName_ = "fo" + run + "r";
  }
  Status logIn() {
    for (auto* c : {sender_.get(), recipient_.get()}) {
      const std::string& name = c == sender_.get() ? senderName_ : recipientName_;
      auto created = c->call(protocol::CreateRequest{name, "failover-pw"}, 30s);
      if (!created || (!created->isOk() && created->code != protocol::ErrorCode::kUsernameTaken)) {
        return Status::unavailable("cannot create " + name);
      }
      auto login = c->call(protocol::LoginRequest{name, "failover-pw"}, 30s);
      if (!login || !login->isOk()) {
        return Status::unavailable("cannot log in " + name);
      }
    }
    return Status::ok();
  }
  // Drives both clients for `period`; keeps one send in flight while `sending`.
  void drive(Millis period, bool sending = true) {
    auto until = Clock::now() + period;
    do {
      if (sending && inFlight_ == 0) {
        uint64_t id = sender_->submit(
            protocol::SendRequest{recipientName_, std::to_string(nextSeq_)});
        inFlight_ = id;
        submittedAt_ = Clock::now();
        inFlightSeq_ = nextSeq_++;
        sender_->flush();
      }
      while (auto e = sender_->waitEvent(1ms)) {
        if (auto* r = std::get_if<protocol::Response>(&*e); r != nullptr && r->requestId == inFlight_) {
          if (r->isOk()) {
            acked_.push_back(inFlightSeq_);
            lastAckAt_ = Clock::now();
            lastAckSubmittedAt_ = submittedAt_;
          } else {
            ++errors_;
          }
          inFlight_ = 0;
        }
      }
      std::vector<uint64_t> ids;
      while (auto e = recipient_->waitEvent(Millis(0))) {
        if (auto* p = std::get_if<protocol::Push>(&*e)) {
          if (auto* m = std::get_if<protocol::MessagePush>(p)) {
            receive(m->message);
            ids.push_back(m->message.id);
          }
        } else if (auto* r = std::get_if<protocol::Response>(&*e)) {
          if (auto* d = std::get_if<protocol::DeliverReply>(&r->body)) {
            for (const auto& m : d->messages) {
              receive(m);
              ids.push_back(m.id);
            }
          }
        } else if (auto* c = std::get_if<ConnectionEvent>(&*e)) {
          if (c->kind == ConnectionEvent::Kind::kResumed) {
            recipient_->submit(protocol::DeliverRequest{});
          }
        }
      }
      if (!ids.empty()) {
        recipient_->submit(protocol::AckRequest{std::move(ids)});
        recipient_->flush();
      }
    } while (Clock::now() < until);
  }
  // The first ack of a send submitted after `kill`, driving until it comes (or 60 s pass).
  std::optional<Millis> timeToFirstAckAfter(Clock::time_point kill) {
    auto deadline = kill + 60s;
    while (Clock::now() < deadline) {
      drive(1ms);
      if (lastAckSubmittedAt_ >= kill) {
        return std::chrono::duration_cast<Millis>(lastAckAt_ - kill);
      }
    }
    return std::nullopt;
  }
  void tally(FailoverResult& r) const {
    r.acknowledged = static_cast<int64_t>(acked_.size());
    r.received = static_cast<int64_t>(received_.size());
    for (int64_t seq : acked_) {
      auto it = received_.find(seq);
      if (it == received_.end()) {
        ++r.missing;
      } else if (it->second > 1) {
        ++r.duplicates;
      }
    }
  }
  bool allReceived() const {
    return std::all_of(acked_.begin(), acked_.end(),
                       [&](int64_t s) { return received_.contains(s); });
  }

 private:
  void receive(const protocol::ChatMessage& m) {
    int64_t seq = -1;
    std::from_chars(m.body.data(), m.body.data() + m.body.size(), seq);
    ++received_[seq];
  }

  std::unique_ptr<ClusterClient> sender_;
  std::unique_ptr<ClusterClient> recipient_;
  std::string senderName_;
  std::string recipientName_;
  uint64_t inFlight_ = 0;
  int64_t inFlightSeq_ = 0;
  int64_t nextSeq_ = 0;
  Clock::time_point submittedAt_{};
  Clock::time_point lastAckAt_{};
  Clock::time_point lastAckSubmittedAt_{};
  std::vector<int64_t> acked_;
  std::map<int64_t, int> received_;
  int64_t errors_ = 0;
};

double percentileOf(std::vector<double> sorted, double q) {
  if (sorted.empty()) {
    return 0;
  }
  std::sort(sorted.begin(), sorted.end());
  auto idx = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(idx, sorted.size() - 1)];
}

}  // namespace

Result<FailoverResult> runFailover(const BenchOptions& o) {
  auto config = cluster::loadClusterConfig(o.clusterFile);
  if (!config) {
    return config.error();
  }
  if (config->nodes.size() < 3) {
    return Status::invalidArgument("failover needs a cluster of at least three nodes");
  }
  // The secret: for election hints, and checked before nodes that would refuse it start.
  CHAT_RETURN_IF_ERROR(cluster::loadClusterSecret(*config));
  std::string runDir = o.runDir;
  if (runDir.empty()) {
    char pattern[] = "/tmp/chat-failover-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      return Status::ioError("cannot create a run folder in /tmp");
    }
    runDir = pattern;
  }
  std::error_code ec;
  std::filesystem::create_directories(runDir, ec);
  for (const auto& n : config->nodes) {
    std::filesystem::create_directories(n.dataDir, ec);
  }
  Cluster nodes(*config, o.nodeBinary.empty() ? launcher::findChatNode() : o.nodeBinary,
                o.clusterFile, runDir, o.nodeLogLevel);
  const bool supervised = !o.supervisorRunDir.empty();
  const std::string control = o.supervisorRunDir + "/control.sock";
  if (!supervised) {
    for (const auto& n : config->nodes) {
      CHAT_RETURN_IF_ERROR(nodes.start(n.id));
    }
  }
  if (nodes.leader(20s) == 0) {
    return Status::timeout("no leader within 20 s; see the logs in " + runDir);
  }
  std::vector<std::string> servers;
  for (const auto& n : config->nodes) {
    servers.push_back(n.clientAddress());
  }
  Random random(Random::entropySeed());
  char run[8];
  std::snprintf(run, sizeof run, "%06llx",
                static_cast<unsigned long long>(random.next() & 0xFFFFFF));
  Conversation chat(servers, run);
  CHAT_RETURN_IF_ERROR(chat.logIn());

  FailoverResult result;
  for (int k = 0; k < o.failoverKills; ++k) {
    chat.drive(300ms);
    uint32_t leader = nodes.leader(20s);
    if (leader == 0) {
      return Status::timeout("no leader before kill " + std::to_string(k + 1));
    }
    auto killedAt = Clock::now();
    if (supervised) {
      auto answer = supervisor::controlRequest(control, "kill " + std::to_string(leader), 5s);
      if (!answer || answer->rfind("OK", 0) != 0) {
        return Status::unavailable("the supervisor did not kill node " + std::to_string(leader) +
                                   ": " + (answer ? *answer : answer.error().message()));
      }
    } else {
      nodes.kill(leader);
    }
    if (o.campaign && !supervised) {
      uint32_t next = nodes.nextInLine(leader);
      (void)replication::askToCampaign(nodes.config().node(next)->peerAddress(),
                                       nodes.config().secret, 500ms);
    }
    auto took = chat.timeToFirstAckAfter(killedAt);
    if (!took) {
      return Status::timeout("no send was acknowledged within 60 s of kill " +
                             std::to_string(k + 1));
    }
    result.millis.push_back(static_cast<double>(took->count()));
    std::fprintf(stderr, "kill %d: node %u, %lld ms\n", k + 1, leader,
                 static_cast<long long>(took->count()));
    if (!supervised) {
      CHAT_RETURN_IF_ERROR(nodes.start(leader));
    }
    // Let the restarted node (restarted here, or by the supervisor) catch up before the next
    // kill.
    auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      chat.drive(50ms);
      uint32_t now = nodes.leader(1s);
      auto back = statusOf(nodes.config().node(leader)->clientAddress());
      auto lead = now != 0 ? statusOf(nodes.config().node(now)->clientAddress()) : std::nullopt;
      if (back && lead && back->appliedIndex + 20 >= lead->commitIndex) {
        break;
      }
    }
  }
  // Stop sending and let everything acknowledged arrive.
  auto drainUntil = Clock::now() + 10s;
  while (Clock::now() < drainUntil && !chat.allReceived()) {
    chat.drive(20ms, false);
  }
  chat.tally(result);
  return result;
}

std::string formatFailover(const BenchOptions& o, const FailoverResult& r) {
  char buf[1024];
  const auto& m = r.millis;
  std::snprintf(buf, sizeof buf,
                "failover over %zu kills of the leader (%s): from SIGKILL to the first "
                "acknowledged send\n"
                "min %.0f ms, p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms\n"
                "sends acknowledged %lld, received %lld, missing %lld, doubled %lld\n%s\n",
                m.size(),
                !o.supervisorRunDir.empty() ? "through chat-supervisor, which hints the election"
                : o.campaign                ? "next in line asked to stand at once"
                                            : "heartbeats only",
                m.empty() ? 0 : *std::min_element(m.begin(), m.end()), percentileOf(m, 0.5),
                percentileOf(m, 0.9), percentileOf(m, 0.99),
                m.empty() ? 0 : *std::max_element(m.begin(), m.end()),
                static_cast<long long>(r.acknowledged), static_cast<long long>(r.received),
                static_cast<long long>(r.missing), static_cast<long long>(r.duplicates),
                r.ok() ? "OK: every acknowledged message arrived exactly once"
                       : "FAILED: messages missing or doubled");
  return buf;
}

}  // namespace chat::bench
