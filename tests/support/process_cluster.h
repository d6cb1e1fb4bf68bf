// ProcessCluster: a cluster of real chat-node processes on loopback for integration tests:
// writes a cluster file with free ports and a temporary data folder per node, starts, kills,
// pauses and restarts nodes, and asks them about their roles. Every process is killed and
// reaped when the cluster goes out of scope.
#ifndef CHAT_TESTS_SUPPORT_PROCESS_CLUSTER_H_
#define CHAT_TESTS_SUPPORT_PROCESS_CLUSTER_H_

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chat/client/connection.h"
#include "chat/tls/tls_stream.h"
#include "support/cluster_secret.h"
#include "support/eventually.h"
#include "support/free_ports.h"
#include "support/node_process.h"
#include "support/temp_dir.h"

namespace chat::testing {

struct ClusterTimings {
  int heartbeatMs = 30;
  int electionTimeoutMs = 200;
  int electionStepMs = 100;
  uint64_t maxLogEntries = 0;  // 0: the default
  uint64_t compactEntries = 0;
  std::string logLevel = "warning";
  bool adminPorts = false;  // give every node an admin HTTP port (adminPort(id))
  // TLS everywhere (client and peer ports): the CA, and one certificate for 127.0.0.1
  // that every node uses. Empty: in the clear.
  std::string tlsCa;
  std::string tlsCert;
  std::string tlsKey;
};

class ProcessCluster {
 public:
  explicit ProcessCluster(size_t size, ClusterTimings timings = {},
                          std::string secret = randomSecret())
      : size_(size), ports_(freePorts(3 * size)), timings_(timings), secret_(secret) {
    if (!timings.tlsCa.empty()) {
      clientTls_ = tls::TlsContext::client({timings.tlsCa}).value();
    }
    writeClusterFile(clusterFile(), secret);
    for (size_t id = 1; id <= size; ++id) {
      nodes_.push_back(std::make_unique<NodeProcess>(
          dataDir(id),
          std::vector<std::string>{"--cluster", clusterFile(), "--id", std::to_string(id)},
          timings.logLevel));
    }
  }

  // Writes this cluster's file to `path`, with `secret` in `path`.secret, a file only this
  // user can read, as a cluster should keep it (another secret makes an impostor).
  void writeClusterFile(const std::string& path, const std::string& secret) const {
    const ClusterTimings& timings = timings_;
    writePrivateFile(path + ".secret", secret + "\n");
    std::ofstream file(path);
    file << "[cluster]\nsecret_file = " << path << ".secret\nheartbeat_ms = " << timings.heartbeatMs
         << "\nelection_timeout_ms = " << timings.electionTimeoutMs
         << "\nelection_step_ms = " << timings.electionStepMs << "\n";
    if (!timings.tlsCa.empty()) {
      file << "tls_ca = " << timings.tlsCa << "\n";
    }
    if (timings.maxLogEntries != 0) {
      file << "max_log_entries = " << timings.maxLogEntries << "\n";
    }
    if (timings.compactEntries != 0) {
      file << "compact_entries = " << timings.compactEntries << "\n";
    }
    for (size_t id = 1; id <= size_; ++id) {
      file << "[node." << id << "]\nhost = 127.0.0.1\nclient_port = " << ports_[id - 1]
           << "\npeer_port = " << ports_[size_ + id - 1] << "\ndata_dir = " << dataDir(id) << "\n";
      if (timings.adminPorts) {
        file << "admin_port = " << adminPort(id) << "\n";
      }
      if (!timings.tlsCa.empty()) {
        file << "tls_cert = " << timings.tlsCert << "\ntls_key = " << timings.tlsKey << "\n";
      }
    }
  }

  // Starts every node; false if one did not come up.
  bool startAll() {
    for (auto& n : nodes_) {
      if (!n->start()) {
        return false;
      }
    }
    return true;
  }
  NodeProcess& node(size_t id) { return *nodes_.at(id - 1); }
  size_t size() const { return size_; }
  std::string clusterFile() const { return dir_.file("cluster.ini"); }
  std::string file(const std::string& name) const { return dir_.file(name); }
  std::string dataDir(size_t id) const { return dir_.file("n" + std::to_string(id)); }
  std::string address(size_t id) const { return "127.0.0.1:" + std::to_string(ports_[id - 1]); }
  uint16_t peerPort(size_t id) const { return ports_[size_ + id - 1]; }
  uint16_t adminPort(size_t id) const { return ports_[2 * size_ + id - 1]; }
  // Every node id but `id`: the survivors of a kill.
  std::vector<size_t> othersThan(size_t id) const {
    std::vector<size_t> out;
    for (size_t other = 1; other <= size_; ++other) {
      if (other != id) {
        out.push_back(other);
      }
    }
    return out;
  }
  std::vector<std::string> addresses() const {
    std::vector<std::string> out;
    for (size_t id = 1; id <= size_; ++id) {
      out.push_back(address(id));
    }
    return out;
  }

  // The cluster secret its nodes share.
  const std::string& secret() const { return secret_; }

  // Node `id`'s status, or nullopt when it does not answer within a second.
  std::optional<protocol::NodeStatus> status(size_t id) const {
    auto c = client::Connection::connect(address(id), std::chrono::milliseconds(1000), {},
                                         clientTls_.get());
    if (!c) {
      return std::nullopt;
    }
    auto r = (*c)->call(protocol::StatusRequest{}, std::chrono::milliseconds(1000));
    if (!r || !r->isOk()) {
      return std::nullopt;
    }
    return std::get<protocol::StatusReply>(r->body).status;
  }
  // Whether node `id` answers a request only a caught-up leader answers itself (a list of
  // users, refused there for want of a login; a node that does not serve yet answers "not the
  // leader"): a leader fresh from its election reports its role before it serves
  // (RaftCore::caughtUp).
  bool serves(size_t id) const {
    auto c = client::Connection::connect(address(id), std::chrono::milliseconds(1000), {},
                                         clientTls_.get());
    if (!c) {
      return false;
    }
    auto r = (*c)->call(protocol::ListRequest{}, std::chrono::milliseconds(1000));
    return r && r->code == protocol::ErrorCode::kNotLoggedIn;
  }
  // Waits (up to `timeout`) until node `id` reports `role`; "leader" also waits until it
  // serves.
  bool waitForRole(size_t id, const std::string& role,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    return eventually(
        [&] {
          auto s = status(id);
          return s && s->role == role && (role != "leader" || serves(id));
        },
        timeout);
  }
  // Waits until some node among `among` (all when empty) leads and serves; returns its id or 0.
  size_t waitForLeader(std::vector<size_t> among = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    if (among.empty()) {
      for (size_t id = 1; id <= size_; ++id) {
        among.push_back(id);
      }
    }
    size_t leader = 0;
    eventually(
        [&] {
          for (size_t id : among) {
            auto s = status(id);
            if (s && s->role == "leader" && serves(id)) {
              leader = id;
              return true;
            }
          }
          return false;
        },
        timeout);
    return leader;
  }

 private:
  TempDir dir_;
  size_t size_;
  std::vector<uint16_t> ports_;
  ClusterTimings timings_;
  std::string secret_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::shared_ptr<tls::TlsContext> clientTls_;  // when the cluster speaks TLS
};

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_PROCESS_CLUSTER_H_
