#include "chaos_runner.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "chat/client/cluster_client.h"
#include "chat/cluster/cluster_secret.h"
#include "chat/launcher/free_ports.h"
#include "chat/launcher/node_launcher.h"
#include "chat/protocol/json_text.h"
#include "chat/supervisor/control_socket.h"
#include "fault_planner.h"
#include "netns_lab.h"

namespace chat::chaos {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kPassword = "chaos-password";
constexpr const char* kRoom = "#chaos";

std::string userName(uint32_t i) {
  return "chaos" + std::to_string(i);
}

// The supervisor's view of the cluster, from `status json`.
struct SupervisedNode {
  uint32_t id = 0;
  std::string state;  // starting, running, paused, stopping, down, given up
  std::string role;
};
struct SupervisedCluster {
  uint32_t leader = 0;
  std::vector<SupervisedNode> nodes;
  bool healthy() const {
    if (leader == 0) {
      return false;
    }
    for (const auto& n : nodes) {
      if (n.state != "running" || (n.role != "leader" && n.role != "follower")) {
        return false;
      }
    }
    return true;
  }
};

Result<SupervisedCluster> readStatus(const std::string& control) {
  auto answer = supervisor::controlRequest(control, "status json", 3s);
  if (!answer) {
    return answer.error();
  }
  if (answer->rfind("OK\n", 0) != 0) {
    return Status::unavailable("the supervisor answered: " + *answer);
  }
  try {
    Poco::JSON::Parser parser;
    auto root = parser.parse(answer->substr(3)).extract<Poco::JSON::Object::Ptr>();
    SupervisedCluster c;
    c.leader = root->getValue<uint32_t>("leader");
    auto nodes = root->getArray("nodes");
    for (size_t i = 0; i < nodes->size(); ++i) {
      auto n = nodes->getObject(static_cast<unsigned>(i));
      c.nodes.push_back(SupervisedNode{n->getValue<uint32_t>("id"), n->getValue<std::string>("state"),
                                       n->getValue<std::string>("role")});
    }
    return c;
  } catch (const Poco::Exception& e) {
    return Status::corruption("unreadable supervisor status: " + e.displayText());
  }
}

// One user: sends its share of the load and receives what the others send it.
class UserWorker {
 public:
  enum Phase { kLoad, kFinish, kDrain, kDone };

  UserWorker(uint32_t index, const ChaosOptions& options, std::vector<std::string> servers,
             std::atomic<int>& phase, std::atomic<int64_t>& sentCounter,
             std::atomic<int64_t>& ackedCounter)
      : index_(index),
        options_(options),
        servers_(std::move(servers)),
        phase_(phase),
        sentCounter_(sentCounter),
        ackedCounter_(ackedCounter),
        random_(options.seed * 1000003 + index) {}

  void run() {
    client::ClusterClientOptions o;
    o.servers = servers_;
    o.seed = options_.seed * 7919 + index_ + 1;
    o.requestTimeout = options_.requestTimeout;
    client::ClusterClient c(o);
    client_ = &c;
    login();
    auto interval = std::chrono::nanoseconds(static_cast<int64_t>(
        1e9 * options_.users / std::max(options_.rate, 1)));
    auto nextSend = Clock::now();
    while (phase_.load() == kLoad) {
      auto now = Clock::now();
      // Bounded in flight, so that a long election does not pile up unbounded requests.
      while (now >= nextSend && sends_.size() + roomSends_.size() < 512) {
        sendOne();
        nextSend += interval;
      }
      if (now - nextSend > 1s) {
        nextSend = now;  // fell behind (an election): do not burst to catch up
      }
      step(std::chrono::duration_cast<std::chrono::milliseconds>(nextSend - Clock::now()));
    }
    // No more sends: let every one in flight be answered.
    auto deadline = Clock::now() + 60s;
    while ((!sends_.empty() || !roomSends_.empty()) && Clock::now() < deadline) {
      step(50ms);
    }
    finished_ = true;
    while (phase_.load() < kDrain) {
      step(50ms);
    }
    // Pushes still on their way, then whatever waits for this user.
    auto settle = Clock::now() + 1s;
    while (Clock::now() < settle) {
      step(50ms);
    }
    drainId_ = c.submit(protocol::DeliverRequest{0, "", ""});
    deadline = Clock::now() + 30s;
    while (drainId_ != 0 && Clock::now() < deadline) {
      step(50ms);
    }
    deadline = Clock::now() + 2s;
    while (c.pendingCount() > 0 && Clock::now() < deadline) {
      step(20ms);  // the last acks
    }
    client_ = nullptr;
  }

  bool finished() const { return finished_.load(); }
  const std::vector<SentMessage>& sent() const { return sent_; }
  const std::vector<ReceivedMessage>& received() const { return received_; }
  const std::vector<SentMessage>& roomSent() const { return roomSent_; }
  const std::vector<ReceivedMessage>& roomReceived() const { return roomReceived_; }
  int64_t resumed() const { return resumed_; }
  int64_t sendErrors() const { return sendErrors_; }

 private:
  void login() {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto r = client_->call(protocol::LoginRequest{userName(index_), kPassword}, 10s);
      if (r && r->isOk()) {
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  void sendOne() {
    if (std::uniform_int_distribution<int>(0, 99)(random_) < options_.roomPercent) {
      uint64_t seq = ++roomSeq_;
      uint64_t id = client_->submit(protocol::SendRequest{kRoom, chaosRoomBody(index_, seq)});
      roomSends_[id] = roomSent_.size();
      roomSent_.push_back(SentMessage{index_, 0, seq, false, 0});
      sentCounter_.fetch_add(1);
      return;
    }
    std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(options_.users) - 2);
    uint32_t to = pick(random_);
    if (to >= index_) {
      ++to;
    }
    uint64_t seq = ++pairSeq_[to];
    uint64_t id = client_->submit(protocol::SendRequest{userName(to), chaosBody(index_, to, seq)});
    sends_[id] = sent_.size();
    sent_.push_back(SentMessage{index_, to, seq, false, 0});
    sentCounter_.fetch_add(1);
  }

  void step(std::chrono::milliseconds wait) {
    client::ClusterClient& c = *client_;
    c.flush();
    auto until = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    c.timeUntilWork()));
    until = std::clamp(until, 0ms, 50ms);
    if (c.fd() >= 0) {
      pollfd p{c.fd(), static_cast<short>(POLLIN | (c.wantsWrite() ? POLLOUT : 0)), 0};
      ::poll(&p, 1, static_cast<int>(until.count()));
    } else if (until.count() > 0) {
      std::this_thread::sleep_for(until);
    }
    c.pump();
    while (auto e = c.nextEvent()) {
      handle(*e);
    }
  }

  void handle(const client::ClientEvent& e) {
    if (const auto* r = std::get_if<protocol::Response>(&e)) {
      if (auto room = roomSends_.find(r->requestId); room != roomSends_.end()) {
        SentMessage& s = roomSent_[room->second];
        if (const auto* reply = std::get_if<protocol::SendReply>(&r->body); r->isOk() && reply) {
          s.acked = true;
          s.messageId = reply->messageId;
          ackedCounter_.fetch_add(1);
        } else {
          ++sendErrors_;
        }
        roomSends_.erase(room);
      } else if (auto it = sends_.find(r->requestId); it != sends_.end()) {
        SentMessage& s = sent_[it->second];
        if (const auto* reply = std::get_if<protocol::SendReply>(&r->body); r->isOk() && reply) {
          s.acked = true;
          s.messageId = reply->messageId;
          ackedCounter_.fetch_add(1);
        } else {
          ++sendErrors_;
        }
        sends_.erase(it);
      } else if (r->requestId == drainId_) {
        if (const auto* d = std::get_if<protocol::DeliverReply>(&r->body)) {
          std::vector<uint64_t> ids;
          for (const auto& m : d->messages) {
            record(m);
            ids.push_back(m.id);
          }
          if (!ids.empty()) {
            client_->submit(protocol::AckRequest{ids});
          }
          if (d->remaining > 0) {
            drainId_ = client_->submit(protocol::DeliverRequest{0, "", ""});
            return;
          }
        }
        drainId_ = 0;
      }
    } else if (const auto* p = std::get_if<protocol::Push>(&e)) {
      if (const auto* m = std::get_if<protocol::MessagePush>(p)) {
        record(m->message);
        client_->submit(protocol::AckRequest{{m->message.id}});
      }
    } else if (const auto* c = std::get_if<client::ConnectionEvent>(&e)) {
      if (c->kind == client::ConnectionEvent::Kind::kResumed) {
        ++resumed_;
      } else if (c->kind == client::ConnectionEvent::Kind::kSessionLost) {
        client_->submit(protocol::LoginRequest{userName(index_), kPassword});
      }
    }
  }

  void record(const protocol::ChatMessage& m) {
    if (m.recipient == kRoom) {
      ReceivedMessage r;
      if (auto parsed = parseChaosRoomBody(m.body)) {
        r = *parsed;
      } else {
        r.sender = UINT32_MAX;  // not ours: counted as never sent
      }
      r.recipient = index_;
      r.messageId = m.id;
      roomReceived_.push_back(r);
      return;
    }
    auto parsed = parseChaosBody(m.body);
    ReceivedMessage r;
    if (parsed) {
      r = *parsed;
    } else {
      r.sender = UINT32_MAX;  // not ours: counted as never sent
    }
    r.messageId = m.id;
    if (r.recipient != index_) {
      r.recipient = UINT32_MAX - 1;  // arrived at the wrong user
    }
    received_.push_back(r);
  }

  uint32_t index_;
  const ChaosOptions& options_;
  std::vector<std::string> servers_;
  std::atomic<int>& phase_;
  std::atomic<int64_t>& sentCounter_;
  std::atomic<int64_t>& ackedCounter_;
  std::mt19937_64 random_;
  client::ClusterClient* client_ = nullptr;
  std::map<uint32_t, uint64_t> pairSeq_;
  std::map<uint64_t, size_t> sends_;  // request id -> index in sent_
  std::vector<SentMessage> sent_;
  std::vector<ReceivedMessage> received_;
  uint64_t roomSeq_ = 0;
  std::map<uint64_t, size_t> roomSends_;  // request id -> index in roomSent_
  std::vector<SentMessage> roomSent_;     // recipient 0: the room (expanded per member later)
  std::vector<ReceivedMessage> roomReceived_;
  uint64_t drainId_ = 0;
  int64_t resumed_ = 0;
  int64_t sendErrors_ = 0;
  std::atomic<bool> finished_{false};
};

// Injects the planner's faults through the supervisor's control socket.
class FaultInjector {
 public:
  // `lab`: the namespaces the nodes run in (partition runs), or null.
  FaultInjector(std::string control, ChaosResult& result, NetnsLab* lab, FaultPlanner planner)
      : control_(std::move(control)), result_(result), lab_(lab), planner_(planner) {}

  // Faults injected so far, for the progress lines of another thread (the result itself
  // belongs to the injecting thread until it is done).
  int64_t faultsSoFar() const { return faultsSoFar_.load(); }

  // Faults until `end`.
  void run(Clock::time_point end) {
    auto nextFault = Clock::now() + planner_.nextDelay();
    while (Clock::now() < end) {
      auto now = Clock::now();
      resumeDue(now, false);
      if (now >= nextFault) {
        injectOne();
        nextFault = Clock::now() + planner_.nextDelay();
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  // Resumes and restarts everything, then waits for a healthy cluster. False on timeout.
  bool repairAll(std::chrono::seconds timeout) {
    resumeDue(Clock::time_point::max(), true);
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto status = readStatus(control_);
      if (status) {
        if (status->healthy()) {
          return true;
        }
        for (const auto& n : status->nodes) {
          if (n.state == "down" || n.state == "given up") {
            ask("restart " + std::to_string(n.id), FaultKind::kRestart);
          } else if (n.state == "paused") {
            ask("resume " + std::to_string(n.id), FaultKind::kResume);
          }
        }
      }
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

 private:
  void resumeDue(Clock::time_point now, bool all) {
    for (auto it = cutUntil_.begin(); it != cutUntil_.end();) {
      if (all || it->second <= now) {
        healNode(it->first);
        it = cutUntil_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = pausedUntil_.begin(); it != pausedUntil_.end();) {
      if (all || it->second <= now) {
        ask("resume " + std::to_string(it->first), FaultKind::kResume);
        it = pausedUntil_.erase(it);
      } else {
        ++it;
      }
    }
  }

  bool ask(const std::string& command, FaultKind kind) {
    auto answer = supervisor::controlRequest(control_, command, 5s);
    if (!answer) {
      return false;
    }
    if (answer->rfind("OK", 0) == 0) {
      ++result_.faults[faultName(kind)];
      if (!isRepair(kind)) {
        ++result_.faultCount;
        faultsSoFar_.fetch_add(1);
      }
      return true;
    }
    if (answer->rfind("CONFIRM", 0) == 0) {
      ++result_.refused;
    }
    return false;
  }

  void healNode(uint32_t id) {
    if (lab_ != nullptr && lab_->heal(static_cast<int>(id)).isOk()) {
      ++result_.faults[faultName(FaultKind::kHeal)];
    }
  }

  void injectOne() {
    auto status = readStatus(control_);
    if (!status) {
      return;
    }
    std::vector<NodeView> view;
    std::vector<std::chrono::milliseconds> downFor;
    auto now = Clock::now();
    for (const auto& n : status->nodes) {
      NodeView v;
      v.id = n.id;
      v.leader = n.id == status->leader && n.role == "leader";
      if (cutUntil_.count(n.id) > 0) {
        v.state = NodeView::State::kCut;
      } else if (n.state == "paused") {
        v.state = NodeView::State::kPaused;
      } else if (n.state == "running" && (n.role == "leader" || n.role == "follower" ||
                                          n.role == "candidate")) {
        v.state = NodeView::State::kUp;
      } else if (n.state == "down" || n.state == "given up") {
        v.state = NodeView::State::kDown;
      } else {
        v.state = NodeView::State::kStarting;  // starting, stopping, or not yet in the cluster
      }
      auto since = downSince_.find(n.id);
      if (v.state == NodeView::State::kDown) {
        if (since == downSince_.end()) {
          since = downSince_.emplace(n.id, now).first;
        }
        downFor.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(now - since->second));
      } else {
        downSince_.erase(n.id);
        downFor.push_back(0ms);
      }
      view.push_back(v);
    }
    Fault f = planner_.next(view, downFor);
    switch (f.kind) {
      case FaultKind::kKillLeader:
        ask("kill leader", f.kind);
        break;
      case FaultKind::kKillReplica:
        ask("kill " + std::to_string(f.node), f.kind);
        break;
      case FaultKind::kPause:
        if (ask("pause " + std::to_string(f.node), f.kind)) {
          pausedUntil_[f.node] = Clock::now() + f.duration;
        }
        break;
      case FaultKind::kRestart:
        if (f.node != 0 && view[f.node - 1].state == NodeView::State::kDown &&
            downFor[f.node - 1] >= 500ms) {
          ask("restart " + std::to_string(f.node), f.kind);
        }
        break;
      case FaultKind::kResume:
        pausedUntil_.erase(f.node);
        ask("resume " + std::to_string(f.node), f.kind);
        break;
      case FaultKind::kPartition:
        if (lab_ != nullptr && lab_->cut(static_cast<int>(f.node)).isOk()) {
          ++result_.faults[faultName(f.kind)];
          ++result_.faultCount;
          faultsSoFar_.fetch_add(1);
          cutUntil_[f.node] = Clock::now() + f.duration;
        }
        break;
      case FaultKind::kHeal:
        cutUntil_.erase(f.node);
        healNode(f.node);
        break;
    }
  }

  std::string control_;
  ChaosResult& result_;
  std::atomic<int64_t> faultsSoFar_{0};
  NetnsLab* lab_;
  FaultPlanner planner_;
  std::map<uint32_t, Clock::time_point> pausedUntil_;
  std::map<uint32_t, Clock::time_point> cutUntil_;
  std::map<uint32_t, Clock::time_point> downSince_;
};

std::string makeRunDir(const ChaosOptions& o) {
  if (!o.runDir.empty()) {
    std::filesystem::create_directories(o.runDir);
    return o.runDir;
  }
  char templ[] = "/tmp/chat-chaos-XXXXXX";
  const char* dir = ::mkdtemp(templ);
  return dir != nullptr ? dir : "";
}

}  // namespace

namespace {

using Progress = std::function<void(const std::string&)>;

// The run's cluster file: free loopback ports (in a partition run, an address of its own per
// node), a folder per node and a fresh random secret. Returns the nodes' client addresses.
Result<std::vector<std::string>> writeClusterFile(const ChaosOptions& o, const std::string& dir,
                                                  const NetnsLab* lab) {
  size_t n = static_cast<size_t>(o.nodes);
  auto ports = lab != nullptr ? std::vector<uint16_t>() : launcher::freeLoopbackPorts(2 * n);
  if (lab == nullptr && ports.size() != 2 * n) {
    return Status::unavailable("no free loopback ports");
  }
  std::string secretFile = dir + "/cluster.secret";
  CHAT_RETURN_IF_ERROR(cluster::makeSecretFile(secretFile));
  std::vector<std::string> servers;
  std::ofstream f(dir + "/cluster.ini");
  f << "[cluster]\nsecret_file = " << secretFile << "\n";
  for (size_t i = 1; i <= n; ++i) {
    std::string host = lab != nullptr ? lab->address(static_cast<int>(i)) : "127.0.0.1";
    uint16_t clientPort = lab != nullptr ? 7001 : ports[i - 1];
    uint16_t peerPort = lab != nullptr ? 7101 : ports[n + i - 1];
    f << "[node." << i << "]\nhost = " << host << "\nclient_port = " << clientPort
      << "\npeer_port = " << peerPort << "\ndata_dir = " << dir << "/node" << i << "\n";
    servers.push_back(host + ":" + std::to_string(clientPort));
  }
  return servers;
}

// The chat-node the supervisor starts; in a partition run, a wrapper that runs it inside its
// node's namespace (exec keeps the pid, so the supervisor's signals reach the node itself).
std::string nodeProgram(const ChaosOptions& o, const std::string& dir, const NetnsLab* lab) {
  std::string nodeBinary = o.nodeBinary.empty() ? launcher::findChatNode() : o.nodeBinary;
  if (lab == nullptr) {
    return nodeBinary;
  }
  std::string wrapper = dir + "/netns-node";
  std::ofstream w(wrapper);
  w << "#!/bin/sh\nid=\nprev=\nfor a in \"$@\"; do [ \"$prev\" = --id ] && id=$a; prev=$a; done\n"
    << "exec ip netns exec " << lab->netns(0).substr(0, lab->netns(0).size() - 1) << "$id "
    << nodeBinary << " \"$@\"\n";
  w.close();
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  return wrapper;
}

// The run's chat-supervisor (headless, demo mode, nodes without rate limits). Its destructor
// stops it and every node, and removes the run folder unless it is to be kept.
class RunSupervisor {
 public:
  static Result<std::unique_ptr<RunSupervisor>> start(const ChaosOptions& o,
                                                      const std::string& dir,
                                                      const std::string& nodeBinary) {
    launcher::LaunchSpec spec;
    spec.binary = o.supervisorBinary.empty()
                      ? launcher::findSuiteProgram("chat-supervisor", "supervisor/app")
                      : o.supervisorBinary;
    spec.args = {"--headless", "--demo", "--cluster", dir + "/cluster.ini", "--run-dir",
                 dir + "/run", "--node-binary", nodeBinary,
                 "--node-arg", "--password-hash", "--node-arg", "min",
                 "--node-arg", "--sign-ups-per-minute", "--node-arg", "0",
                 "--node-arg", "--sends-per-second", "--node-arg", "0",
                 "--node-arg", "--max-connections-per-address", "--node-arg", "0"};
    spec.logFile = dir + "/supervisor.log";
    auto process = launcher::ChildProcess::spawn(spec);
    if (!process) {
      return process.error();
    }
    bool removeDir = !o.keep && o.runDir.empty();
    return std::unique_ptr<RunSupervisor>(
        new RunSupervisor(std::move(process).value(), dir, removeDir));
  }
  ~RunSupervisor() {
    (void)supervisor::controlRequest(control(), "stop", 5s);
    if (!process_.wait(15000)) {
      (void)process_.signal(SIGKILL);
      process_.wait(5000);
    }
    if (removeDir_) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  RunSupervisor(const RunSupervisor&) = delete;  // owns a process
  RunSupervisor& operator=(const RunSupervisor&) = delete;

  std::string control() const { return dir_ + "/run/control.sock"; }

  // A failed run keeps its folder, whose logs say why.
  void keepRunFolder() { removeDir_ = false; }

  // Waits until every node runs and one leads; if none does, keeps the run folder.
  Status waitUntilLed(std::chrono::seconds within) {
    auto deadline = Clock::now() + within;
    while (Clock::now() < deadline) {
      auto s = readStatus(control());
      if (s && s->healthy()) {
        return Status::ok();
      }
      // In demo mode a node that died stays down: no use waiting for it.
      for (const auto& n : s ? s->nodes : std::vector<SupervisedNode>{}) {
        if (n.state == "down" || n.state == "given up") {
          keepRunFolder();
          return Status::unavailable("node " + std::to_string(n.id) + " did not come up (" +
                                     n.state + "); see " + dir_ + "/run/node" +
                                     std::to_string(n.id) + ".log and " + dir_ +
                                     "/supervisor.log");
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    keepRunFolder();
    return Status::unavailable("the cluster did not come up within " +
                               std::to_string(within.count()) + " s; see " + dir_ +
                               "/supervisor.log and " + dir_ + "/run");
  }

 private:
  RunSupervisor(launcher::ChildProcess process, std::string dir, bool removeDir)
      : process_(std::move(process)), dir_(std::move(dir)), removeDir_(removeDir) {}

  launcher::ChildProcess process_;
  std::string dir_;
  bool removeDir_;
};

// The run's users, and the room every one of them is in (its first user creates it and adds
// the others).
Status createUsersAndRoom(const ChaosOptions& o, const std::vector<std::string>& servers) {
  client::ClusterClientOptions co;
  co.servers = servers;
  client::ClusterClient admin(co);
  auto refused = [](const std::string& what, const Result<protocol::Response>& r) {
    return Status::unavailable(what + ": " + (r ? r->error : r.error().message()));
  };
  for (int i = 0; i < o.users; ++i) {
    auto r = admin.call(protocol::CreateRequest{userName(static_cast<uint32_t>(i)), kPassword}, 10s);
    if (!r || (!r->isOk() && r->code != protocol::ErrorCode::kUsernameTaken)) {
      return refused("could not create the users", r);
    }
  }
  if (o.roomPercent == 0) {
    return Status::ok();
  }
  auto login = admin.call(protocol::LoginRequest{userName(0), kPassword}, 10s);
  if (!login || !login->isOk()) {
    return refused("could not log in to make the room", login);
  }
  auto made = admin.call(protocol::CreateRoomRequest{kRoom, protocol::RoomAccess::kOpen}, 10s);
  if (!made || (!made->isOk() && made->code != protocol::ErrorCode::kRoomNameTaken)) {
    return refused("could not create " + std::string(kRoom), made);
  }
  for (int i = 1; i < o.users; ++i) {
    auto added = admin.call(
        protocol::InviteToRoomRequest{kRoom, userName(static_cast<uint32_t>(i))}, 10s);
    if (!added || !added->isOk()) {
      return refused("could not add the users to " + std::string(kRoom), added);
    }
  }
  (void)admin.call(protocol::LogoutRequest{}, 10s);
  return Status::ok();
}

// The load with faults for o.seconds, then every node repaired and the users' last messages
// let through; fills `result` with what was sent, received and checked. False if the cluster
// did not become healthy again within 60 s of the last fault.
bool runLoadWithFaults(const ChaosOptions& o, const std::vector<std::string>& servers,
                       const std::string& control, NetnsLab* lab, const Progress& progress,
                       ChaosResult& result) {
  std::atomic<int> phase{UserWorker::kLoad};
  std::atomic<int64_t> sent{0};
  std::atomic<int64_t> acked{0};
  std::vector<std::unique_ptr<UserWorker>> workers;
  for (int i = 0; i < o.users; ++i) {
    workers.push_back(
        std::make_unique<UserWorker>(static_cast<uint32_t>(i), o, servers, phase, sent, acked));
  }
  auto started = Clock::now();
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w] { w->run(); });
  }
  FaultInjector injector(control, result, lab,
                         FaultPlanner(o.seed, FaultPlanOptions{o.faultEvery, 300ms, 1500ms, 500ms,
                                                               lab != nullptr}));
  std::thread reporter([&] {
    while (phase.load() == UserWorker::kLoad) {
      for (int i = 0; i < 50 && phase.load() == UserWorker::kLoad; ++i) {
        std::this_thread::sleep_for(100ms);
      }
      if (phase.load() == UserWorker::kLoad) {
        auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count();
        progress(std::to_string(seconds) + " s: sent " + std::to_string(sent.load()) +
                 ", acknowledged " + std::to_string(acked.load()) + ", faults " +
                 std::to_string(injector.faultsSoFar()));
      }
    }
  });
  injector.run(started + std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000)));
  phase = UserWorker::kFinish;
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  reporter.join();
  progress("load over; repairing every node and letting the cluster settle");
  bool healthy = injector.repairAll(60s);
  auto waitFinished = Clock::now() + 90s;
  while (Clock::now() < waitFinished &&
         !std::all_of(workers.begin(), workers.end(), [](auto& w) { return w->finished(); })) {
    std::this_thread::sleep_for(50ms);
  }
  phase = UserWorker::kDrain;
  for (auto& t : threads) {
    t.join();
  }
  std::vector<SentMessage> allSent;
  std::vector<ReceivedMessage> allReceived;
  std::vector<SentMessage> roomSent;
  std::vector<ReceivedMessage> roomReceived;
  for (auto& w : workers) {
    allSent.insert(allSent.end(), w->sent().begin(), w->sent().end());
    allReceived.insert(allReceived.end(), w->received().begin(), w->received().end());
    roomSent.insert(roomSent.end(), w->roomSent().begin(), w->roomSent().end());
    roomReceived.insert(roomReceived.end(), w->roomReceived().begin(), w->roomReceived().end());
    result.sessionsResumed += w->resumed();
    result.sendErrors += w->sendErrors();
  }
  result.history = checkHistory(allSent, allReceived);
  result.roomHistory =
      checkHistory(expandRoomSends(roomSent, static_cast<uint32_t>(o.users)), roomReceived);
  return healthy;
}

}  // namespace

Result<ChaosResult> runChaos(const ChaosOptions& options) {
  ChaosOptions o = options;
  if (o.seed == 0) {
    o.seed = std::random_device{}() | 1ULL;
  }
  ChaosResult result;
  result.seed = o.seed;
  std::string dir = makeRunDir(o);
  if (dir.empty()) {
    return Status::ioError("cannot make a run folder under /tmp");
  }
  Progress progress = [&](const std::string& line) {
    if (!o.quiet) {
      std::fprintf(stderr, "chat-chaos: %s\n", line.c_str());
    }
  };
  std::unique_ptr<NetnsLab> lab;
  if (o.partitions) {
    auto made = NetnsLab::create(o.nodes);
    if (!made) {
      return made.error();
    }
    lab = std::move(made).value();
  }
  auto servers = writeClusterFile(o, dir, lab.get());
  if (!servers) {
    return servers.error();
  }
  auto supervisor = RunSupervisor::start(o, dir, nodeProgram(o, dir, lab.get()));
  if (!supervisor) {
    return supervisor.error();
  }
  progress("seed " + std::to_string(o.seed) + ", " + std::to_string(o.nodes) +
           " nodes, run folder " + dir);
  CHAT_RETURN_IF_ERROR((*supervisor)->waitUntilLed(30s));
  CHAT_RETURN_IF_ERROR(createUsersAndRoom(o, *servers));
  bool healthy = runLoadWithFaults(o, *servers, (*supervisor)->control(), lab.get(), progress,
                                   result);
  if (!healthy) {
    (*supervisor)->keepRunFolder();
  }
  supervisor->reset();  // stops the cluster (and removes the run folder) before the verdict
  if (!healthy) {
    return Status::unavailable("the cluster did not become healthy again within 60 s of the "
                               "last fault (seed " + std::to_string(o.seed) +
                               "); its logs are kept in " + dir);
  }
  return result;
}

std::string formatChaos(const ChaosOptions& o, const ChaosResult& r) {
  std::ostringstream out;
  const HistoryReport& h = r.history;
  out << "chat-chaos: seed " << r.seed << ", " << o.nodes << " nodes, " << o.users << " users, "
      << static_cast<int>(r.seconds) << " s at " << o.rate << " msg/s\n";
  out << "faults: " << r.faultCount << " (";
  bool first = true;
  for (const auto& [kind, n] : r.faults) {
    out << (first ? "" : ", ") << kind << " " << n;
    first = false;
  }
  out << "); refused by the supervisor (majority): " << r.refused << "\n";
  out << "sent " << h.sent << ", acknowledged " << h.acked << ", unacknowledged " << h.unacked
      << " (delivered anyway " << h.unackedDelivered << ")\n";
  out << "delivered " << h.delivered << ", lost " << h.lost << ", duplicated " << h.duplicated
      << ", reordered " << h.reordered << ", never sent " << h.phantom << "\n";
  const HistoryReport& room = r.roomHistory;
  out << "room " << kRoom << " (" << o.users << " members): member copies expected "
      << room.acked << " (+" << room.unacked << " of unacknowledged sends), delivered "
      << room.delivered << ", lost " << room.lost << ", duplicated " << room.duplicated
      << ", reordered " << room.reordered << ", never sent " << room.phantom << "\n";
  out << "sessions resumed " << r.sessionsResumed << ", send errors " << r.sendErrors << "\n";
  for (const auto& e : h.examples) {
    out << "  " << e << "\n";
  }
  for (const auto& e : room.examples) {
    out << "  room: " << e << "\n";
  }
  out << (r.ok() ? "OK: every acknowledged message was delivered exactly once, in send order "
                   "(in a room: to every member, in the room's order)\n"
                 : "VIOLATION: replay with chat-chaos --seed " + std::to_string(r.seed) +
                       " --nodes " + std::to_string(o.nodes) + "\n");
  return out.str();
}

std::string formatChaosJson(const ChaosOptions& o, const ChaosResult& r) {
  const HistoryReport& h = r.history;
  Poco::JSON::Object j(Poco::JSON_PRESERVE_KEY_ORDER);
  j.set("seed", r.seed);
  j.set("nodes", o.nodes);
  j.set("users", o.users);
  j.set("seconds", r.seconds);
  j.set("rate", o.rate);
  j.set("faults", r.faultCount);
  Poco::JSON::Object byKind(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [kind, n] : r.faults) {
    byKind.set(kind, n);
  }
  j.set("faultsByKind", byKind);
  j.set("refused", r.refused);
  j.set("sent", h.sent);
  j.set("acknowledged", h.acked);
  j.set("unacknowledged", h.unacked);
  j.set("unacknowledgedDelivered", h.unackedDelivered);
  j.set("delivered", h.delivered);
  j.set("lost", h.lost);
  j.set("duplicated", h.duplicated);
  j.set("reordered", h.reordered);
  j.set("neverSent", h.phantom);
  Poco::JSON::Object room(Poco::JSON_PRESERVE_KEY_ORDER);
  room.set("copiesExpected", r.roomHistory.acked);
  room.set("delivered", r.roomHistory.delivered);
  room.set("lost", r.roomHistory.lost);
  room.set("duplicated", r.roomHistory.duplicated);
  room.set("reordered", r.roomHistory.reordered);
  room.set("neverSent", r.roomHistory.phantom);
  j.set("room", room);
  j.set("sessionsResumed", r.sessionsResumed);
  j.set("ok", r.ok());
  return protocol::jsonText(j) + "\n";
}

}  // namespace chat::chaos
