// freeLoopbackPorts: loopback ports that were free a moment ago, for programs that must write
// a cluster file before starting its nodes (the tests, chat-chaos). They are taken below the
// kernel's ephemeral range, so that no outgoing connection made meanwhile can be given one
// of them between the choice and the node's bind (picking by binding port 0 made a node
// fail to start now and then).
// Thread contract: thread-safe (no shared state).
#ifndef CHAT_LAUNCHER_FREE_PORTS_H_
#define CHAT_LAUNCHER_FREE_PORTS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chat::launcher {

// `n` different ports; fewer only if the range is nearly full.
std::vector<uint16_t> freeLoopbackPorts(size_t n);

}  // namespace chat::launcher

#endif  // CHAT_LAUNCHER_FREE_PORTS_H_
