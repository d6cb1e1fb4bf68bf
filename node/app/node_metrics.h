// What a node's admin port serves: its metrics in the Prometheus text format and its
// health, read from the parts the node is assembled from. Assembly glue: no state of its
// own, every figure is read at scrape time or counted where it happens.
#ifndef CHAT_NODE_NODE_METRICS_H_
#define CHAT_NODE_NODE_METRICS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "chat/admin/admin_server.h"
#include "chat/cluster/cluster_config.h"
#include "chat/replication/replicated_commit_log.h"
#include "chat/service/chat_service.h"
#include "chat/storage/message_store.h"

namespace chat::node {

struct NodeParts {
  uint32_t nodeId = 1;
  const service::ChatService* chat = nullptr;
  storage::MessageStore* store = nullptr;
  const service::CommitLog* log = nullptr;
  const replication::ReplicatedCommitLog* replicated = nullptr;  // a cluster of one when standalone
  const cluster::ClusterConfig* cluster = nullptr;               // null when standalone
  std::function<size_t()> connections;                           // open client connections
  std::function<uint64_t()> archivedIndex;  // how far chat.db has recorded the log
  std::chrono::steady_clock::time_point started;
};

std::string renderNodeMetrics(const NodeParts& parts);
// Healthy: storage works and the node can serve (it is standalone, or a leader is known).
admin::HealthReport nodeHealth(const NodeParts& parts);

}  // namespace chat::node

#endif  // CHAT_NODE_NODE_METRICS_H_
