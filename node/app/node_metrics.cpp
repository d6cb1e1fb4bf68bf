#include "node_metrics.h"

#include <Poco/JSON/Object.h>

#include <sstream>

#include "chat/common/metrics.h"
#include "chat/common/process_info.h"
#include "chat/protocol/json_text.h"

namespace chat::node {

namespace {

const char* roleOf(const NodeParts& p) {
  return p.cluster != nullptr ? replication::roleName(p.replicated->role()) : "standalone";
}

}  // namespace

std::string renderNodeMetrics(const NodeParts& p) {
  PrometheusText out;
  const service::ServiceMetrics& m = p.chat->metrics();
  out.counter("chat_messages_received_total",
              "Messages stored (applied by this node; a retried send counts once).",
              m.messagesReceived.value());
  out.counter("chat_messages_delivered_total",
              "Messages handed to their recipient and acknowledged (applied by this node).",
              m.messagesDelivered.value());
  if (auto queued = p.store->pendingTotal()) {
    out.gauge("chat_messages_queued", "Messages stored and waiting for their recipient.",
              static_cast<double>(*queued));
  }
  out.counter("chat_sends_refused_total", "Sends proposed here and not stored.",
              m.sendsRefused.value());
  out.counter("chat_logins_refused_total",
              "Logins refused: wrong password, unknown user or throttled.",
              m.loginsRefused.value());
  out.histogram("chat_commit_latency_seconds",
                "A send from its proposal on this node to applied, in seconds.",
                m.commitLatency.snapshot());
  out.gauge("chat_connected_clients", "Open client connections.",
            static_cast<double>(p.connections ? p.connections() : 0));
  out.gauge("chat_sessions", "Logged-in client sessions.",
            static_cast<double>(p.chat->sessionCount()));
  out.gauge("chat_epoch", "The current epoch (Raft term).", static_cast<double>(p.log->epoch()));
  out.gauge("chat_commit_index", "Index of the last applied log entry.",
            static_cast<double>(p.log->appliedIndex()));
  if (p.archivedIndex) {
    out.gauge("chat_chatdb_applied_index",
              "Index of the last log entry recorded in chat.db (it follows the commit index).",
              static_cast<double>(p.archivedIndex()));
  }
  out.gauges("chat_role", "This node's role (1 for the current one).",
             {{{{"role", roleOf(p)}}, 1.0}});
  out.gauge("chat_log_last_index", "Index of the last entry in this node's log.",
            static_cast<double>(p.replicated->lastIndex()));
  if (p.cluster != nullptr) {
    // A node without a cluster is a cluster of one: it always leads, and has no followers.
    const auto& r = *p.replicated;
    out.gauge("chat_is_leader", "1 while this node leads.",
              r.role() == replication::Role::kLeader ? 1.0 : 0.0);
    out.counter("chat_elections_total", "Leaders this node saw elected since it started.",
                r.electionsSeen());
    out.counter("chat_campaigns_total", "Times this node stood for election since it started.",
                r.campaigns());
    // The leader knows how far behind each follower is; a follower reports none.
    std::vector<std::pair<PrometheusText::Labels, double>> lag;
    std::vector<std::pair<PrometheusText::Labels, double>> reachable;
    uint64_t last = r.lastIndex();
    for (const auto& peer : r.peerProgress()) {
      PrometheusText::Labels labels{{"peer", std::to_string(peer.id)}};
      lag.emplace_back(labels, static_cast<double>(last > peer.match ? last - peer.match : 0));
      reachable.emplace_back(labels, peer.reachable ? 1.0 : 0.0);
    }
    out.gauges("chat_replication_lag_entries",
               "Log entries a follower lacks, as the leader sees it (leader only).", lag);
    out.gauges("chat_replication_peer_reachable",
               "1 if the follower answered within three heartbeats (leader only).", reachable);
  }
  out.gauge("chat_uptime_seconds", "Seconds since this node started.",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - p.started).count());
  out.gauge("chat_resident_bytes", "Resident memory of the process.",
            static_cast<double>(residentBytes()));
  return out.text();
}

admin::HealthReport nodeHealth(const NodeParts& p) {
  admin::HealthReport h;
  std::string reason;
  uint32_t leader = 0;
  if (p.replicated != nullptr) {
    leader = p.replicated->leader();
    if (p.replicated->storageFailed()) {
      reason = "this node's storage failed; it serves nothing until restarted";
    } else if (leader == replication::kNoNode) {
      reason = "no leader is known (an election is under way, or this node is cut off)";
    }
  } else {
    leader = p.nodeId;
  }
  auto queued = p.store->pendingTotal();
  if (reason.empty() && !queued) {
    reason = "the database cannot be read: " + queued.error().message();
  }
  h.healthy = reason.empty();
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("status", std::string(h.healthy ? "ok" : "unavailable"));
  o.set("node", p.nodeId);
  o.set("role", std::string(roleOf(p)));
  o.set("leader", leader);
  o.set("epoch", p.log->epoch());
  o.set("commit_index", p.log->appliedIndex());
  if (!reason.empty()) {
    o.set("reason", reason);
  }
  h.json = protocol::jsonText(o);
  return h;
}

}  // namespace chat::node
