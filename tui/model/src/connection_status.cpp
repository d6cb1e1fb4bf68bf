#include "chat/tui/connection_status.h"

#include <algorithm>
#include <cstdio>

namespace chat::tui {

std::string ConnectionStatus::text(bool compact) const {
  char buf[256];
  switch (state) {
    case State::kConnecting:
      if (reconnectInMillis > 0) {
        // No node has answered yet: say so, and when the next round of attempts starts.
        std::snprintf(buf, sizeof buf, compact ? "no node answers; again in %.1f s"
                                               : "no node of the cluster answers; trying again in %.1f s",
                      reconnectInMillis / 1000.0);
        return buf;
      }
      return "connecting to the cluster...";
    case State::kReconnecting:
      if (compact) {
        std::snprintf(buf, sizeof buf, "leader lost, reconnecting in %.1f s",
                      reconnectInMillis / 1000.0);
        return buf;
      }
      std::snprintf(buf, sizeof buf, "leader lost, reconnecting in %.1f s%s%s",
                    reconnectInMillis / 1000.0, lostReason.empty() ? "" : " — ",
                    lostReason.c_str());
      return buf;
    case State::kFailedOver:
      if (compact) {
        std::snprintf(buf, sizeof buf, "new leader node %u, re-sent %zu", leaderId, resent);
        return buf;
      }
      std::snprintf(buf, sizeof buf, "new leader node %u (epoch %llu), re-sent %zu", leaderId,
                    static_cast<unsigned long long>(epoch), resent);
      return buf;
    case State::kConnected:
      break;
  }
  if (compact) {
    std::string port = node.substr(std::min(node.rfind(':'), node.size()));
    std::string out = port + " → leader " +
                      (leaderId != 0 ? std::to_string(leaderId) : std::string("?")) + " · epoch " +
                      std::to_string(epoch) + " · " + std::to_string(nodesUp) + "/" +
                      std::to_string(nodesTotal);
    if (rttMillis >= 0) {
      out += " · " + std::to_string(rttMillis) + " ms";
    }
    return out;
  }
  std::string out = "node " + node + " · leader " +
                    (leaderId != 0 ? "node " + std::to_string(leaderId) : std::string("?")) +
                    " · epoch " + std::to_string(epoch) + " · " + std::to_string(nodesUp) + "/" +
                    std::to_string(nodesTotal) + " up";
  if (rttMillis >= 0) {
    out += " · rtt " + std::to_string(rttMillis) + " ms";
  }
  return out;
}

}  // namespace chat::tui
