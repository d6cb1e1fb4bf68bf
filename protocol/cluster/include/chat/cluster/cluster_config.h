// ClusterConfig: the cluster file (etc/cluster.ini) that every program of the suite reads:
// nodes in succession order with their addresses and data folders, the shared secret and
// the replication timings. docs/operations.md documents every key.
//
//   [cluster]
//   secret_file = var/cluster.secret  ; the shared secret, a private file (cluster_secret.h)
//   secret = ...               ; or inline, in a cluster file that is itself private
//   heartbeat_ms = 50
//   election_timeout_ms = 300  ; the first node in order; later ones a step more each
//   election_step_ms = 100
//   max_log_entries = 100000   ; optional: log trimming (docs/replication.md)
//   compact_entries = 10000
//   [supervisor]               ; optional: chat-supervisor's restart policy
//   restart = on-failure       ; or never
//   max_restarts = 5           ; within restart_period_s, then it gives up on the node
//   restart_period_s = 60
//   [node.1]
//   host = 127.0.0.1
//   client_port = 7001
//   peer_port = 7101
//   data_dir = var/node1
//   admin_port = 7201          ; optional: HTTP /metrics and /health (off by default)
//   supervise = spawn          ; or watch: chat-supervisor only watches it over the network
//   tls_cert = /etc/chat/node1.pem  ; optional, with tls_key: TLS on the client port
//   tls_key = /etc/chat/node1.key   ; ([cluster] tls_ca = the CA clients check them with)
//
// Thread contract: plain values; loading is a pure function of the file.
#ifndef CHAT_CLUSTER_CLUSTER_CONFIG_H_
#define CHAT_CLUSTER_CLUSTER_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat/common/status.h"

namespace chat::cluster {

struct NodeConfig {
  uint32_t id = 0;
  std::string host;
  uint16_t clientPort = 0;
  uint16_t peerPort = 0;
  uint16_t adminPort = 0;  // HTTP /metrics and /health; 0: off
  std::string dataDir;
  std::string restart;  // this node's restart policy for chat-supervisor; empty: the cluster's
  // How chat-supervisor treats it: "spawn" (default) runs it as a child; "watch" only polls
  // its status over the network (it runs on another host or under systemd).
  std::string supervise = "spawn";
  // TLS on its client port: certificate chain and private key (PEM); empty: in the clear.
  std::string tlsCert;
  std::string tlsKey;
  std::string clientAddress() const { return host + ":" + std::to_string(clientPort); }
  std::string peerAddress() const { return host + ":" + std::to_string(peerPort); }
};

// The optional [supervisor] section: chat-supervisor's restart policy for this cluster
// (its flags override it).
struct SupervisorConfig {
  std::string restart = "on-failure";  // or "never"
  int maxRestarts = 5;                 // within restartPeriod, then it gives up on the node
  std::chrono::seconds restartPeriod{60};
};

struct ClusterConfig {
  std::string source;      // the file it was read from, for messages
  std::string secretFile;  // where the secret is (relative: to the working folder)
  // The shared secret: inline in the file, or read by loadClusterSecret (cluster_secret.h);
  // programs that only need the addresses (chat-tui) never read it.
  std::string secret;
  std::chrono::milliseconds heartbeat{50};
  std::chrono::milliseconds electionTimeout{300};
  std::chrono::milliseconds electionStep{50};
  uint64_t maxLogEntries = 100000;  // a node's log is trimmed beyond this many entries
  uint64_t compactEntries = 10000;  // the leader trims what everyone holds in steps this big
  std::vector<NodeConfig> nodes;  // succession order: the order of the sections in the file
  std::string tlsCa;  // the CA the nodes' TLS certificates chain to, for the suite's clients
  SupervisorConfig supervisor;

  const NodeConfig* node(uint32_t id) const;
};

// Reads and checks a cluster file. Errors (kInvalidArgument, kNotFound) name the file, the
// section and the key, and say what is expected.
Result<ClusterConfig> loadClusterConfig(const std::string& path);
// The same from text, for tests; `name` is used in error messages.
Result<ClusterConfig> parseClusterConfig(const std::string& text, const std::string& name);

}  // namespace chat::cluster

#endif  // CHAT_CLUSTER_CLUSTER_CONFIG_H_
