// freePorts: loopback ports for tests whose processes must know each other's ports before
// starting (a cluster file); see chat/launcher/free_ports.h for how they are chosen.
#ifndef CHAT_TESTS_SUPPORT_FREE_PORTS_H_
#define CHAT_TESTS_SUPPORT_FREE_PORTS_H_

#include <vector>

#include "chat/launcher/free_ports.h"

namespace chat::testing {

inline std::vector<uint16_t> freePorts(size_t n) {
  return launcher::freeLoopbackPorts(n);
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_FREE_PORTS_H_
