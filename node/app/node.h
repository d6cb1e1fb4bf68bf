// Node: a chat node assembled from its parts, in the order the write path needs them: the
// store (the state machine in memory with chat.db behind it), the log folder (moved from an
// older version if need be), the log, the peer transport (a cluster of one without a
// cluster file), the commit log, the chat service, the client port and the admin port.
// Each step is a function that returns a Status, so chat-node's main() only reads settings
// and reports; tests start nodes in-process with the same code.
//
// Thread contract: start() and the destructor from one thread; the accessors from any.
#ifndef CHAT_NODE_APP_NODE_H_
#define CHAT_NODE_APP_NODE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "chat/cluster/cluster_config.h"
#include "chat/common/status.h"
#include "chat/protocol/wire_types.h"
#include "chat/service/password_hasher.h"

namespace chat::node {

// Everything a node is started with, read by chat-node from its options and files.
struct NodeSettings {
  uint32_t nodeId = 1;
  // A node of this cluster (the file's data folder and ports apply), or a cluster of one.
  std::optional<cluster::ClusterConfig> cluster;
  std::string dataDir = "var/node";
  std::string host = "127.0.0.1";
  uint16_t port = 7001;  // 0 picks a free one (Node::port())
  service::HashCost passwordHash = service::HashCost::kInteractive;
  bool syncChatDb = false;  // chat.db synced on every write too (--sync full)
  int loops = 1;
  std::chrono::seconds idleTimeout{1800};
  std::chrono::seconds loginTimeout{60};  // before a login, a request at least this often
  size_t maxConnections = 0;              // 0: the open-file limit less 256 (log, db, peers)
  size_t maxConnectionsPerAddress = 256;  // 0: no cap
  uint32_t signUpsPerMinute = 30;  // per address (0: no limit)
  uint32_t sendsPerSecond = 50;    // per account, after a burst of 10 s worth (0: no limit)
  protocol::Limits limits;
  size_t maxOutputBytes = size_t{8} << 20;
  std::chrono::hours sessionLifetime{24};
  std::string tlsCert;  // both set: the client port speaks TLS only
  std::string tlsKey;
  std::string adminHost;  // empty: the client host
  uint16_t adminPort = 0;  // 0: no admin port
};

class Node {
 public:
  // Starts every part; on an error, stops what was started and says which step failed.
  // Errors: kInvalidArgument (a setting: TLS files, ...), kIoError (the data folder, the
  // log, chat.db), kCorruption (damaged log or state: names the file), kUnavailable (a
  // port in use, or another process on the data folder).
  static Result<std::unique_ptr<Node>> start(const NodeSettings& settings);
  ~Node();  // stops in dependency order: ports, then work, then the log, then storage
  Node(const Node&) = delete;  // owns threads and sockets
  Node& operator=(const Node&) = delete;

  uint16_t port() const;
  uint16_t adminPort() const;
  // The log position applied so far (what status reports).
  uint64_t appliedIndex() const;

 private:
  struct Parts;
  explicit Node(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// The exit code (sysexits.h) that best says what a start error was.
int exitCodeFor(const Status& error);

}  // namespace chat::node

#endif  // CHAT_NODE_APP_NODE_H_
