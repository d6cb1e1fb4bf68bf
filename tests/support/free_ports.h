// freePorts: loopback ports that were free a moment ago, found by binding port 0 and
// releasing it, for tests whose processes must know each other's ports before starting.
#ifndef CHAT_TESTS_SUPPORT_FREE_PORTS_H_
#define CHAT_TESTS_SUPPORT_FREE_PORTS_H_

#include <cstdint>
#include <vector>

#include <Poco/Net/ServerSocket.h>

namespace chat::testing {

inline std::vector<uint16_t> freePorts(size_t n) {
  std::vector<Poco::Net::ServerSocket> held;  // all held at once, so the ports differ
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < n; ++i) {
    held.emplace_back(Poco::Net::SocketAddress("127.0.0.1", 0));
    ports.push_back(held.back().address().port());
  }
  return ports;
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_FREE_PORTS_H_
