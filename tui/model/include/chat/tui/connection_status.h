// ConnectionStatus: what the status strip shows — the node the client talks to, the leader,
// the epoch, how many nodes are up, the round-trip time — and, while the cluster fails
// over, the banner that replaces it ("leader lost, reconnecting in 0.4 s", then "new leader
// node 2, re-sent 3"). Fed by the app from ClusterClient events and status polls.
// Thread contract: plain values.
#ifndef CHAT_TUI_CONNECTION_STATUS_H_
#define CHAT_TUI_CONNECTION_STATUS_H_

#include <cstdint>
#include <string>

namespace chat::tui {

struct ConnectionStatus {
  enum class State { kConnecting, kConnected, kReconnecting, kFailedOver };
  State state = State::kConnecting;
  std::string node;        // host:port talked to
  uint32_t leaderId = 0;   // 0: unknown
  uint64_t epoch = 0;
  int nodesUp = 0;
  int nodesTotal = 0;
  int rttMillis = -1;        // -1: not measured yet
  int reconnectInMillis = 0;  // kReconnecting: countdown
  std::string lostReason;     // kReconnecting: why the connection went
  size_t resent = 0;          // kFailedOver: requests re-sent on the new connection

  // The strip's text: the normal line, or the failover banner. `compact` is the short form
  // for narrow terminals (":7001 → leader 1 · epoch 3 · 3/3 · 1 ms").
  std::string text(bool compact = false) const;
  // True while the strip should stand out (a banner).
  bool alarming() const { return state == State::kReconnecting || state == State::kConnecting; }
};

}  // namespace chat::tui

#endif  // CHAT_TUI_CONNECTION_STATUS_H_
