// takenPorts: before a supervisor starts its nodes, which of the ports they will listen on
// something else holds already, and which process that is when /proc says (it does for the
// caller's own processes, and for all of them as root). A node that finds its port taken
// would die at start and be restarted into the same wall; this says it once, up front.
// Thread contract: thread-safe (no shared state); reads /proc.
#ifndef CHAT_LAUNCHER_PORT_CHECK_H_
#define CHAT_LAUNCHER_PORT_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

namespace chat::launcher {

struct PortUse {
  std::string host;  // an IPv4 address or a name that resolves to one
  uint16_t port = 0;
  std::string what;  // "node 1's client port"
};

struct TakenPort {
  PortUse use;
  int pid = 0;          // 0: the holder could not be told
  std::string process;  // its command name, when pid != 0
};

// The uses whose port cannot be bound for listening on its host now (EADDRINUSE), in order.
// A host that does not resolve, or an address not on this machine, is not reported here:
// the node's own start says what is wrong with it.
std::vector<TakenPort> takenPorts(const std::vector<PortUse>& uses);

// The process listening on TCP `port` (IPv4 or IPv6), from /proc/net/tcp* and /proc/*/fd:
// its pid and command name, or pid 0.
TakenPort holderOf(const PortUse& use);

}  // namespace chat::launcher

#endif  // CHAT_LAUNCHER_PORT_CHECK_H_
