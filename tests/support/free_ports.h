// freePorts: loopback ports that were free a moment ago, for tests whose processes must know
// each other's ports before starting (a cluster file). They are taken below the kernel's
// ephemeral range, so that no outgoing connection of a test running beside this one can be
// given one of them by chance between the choice and the bind (that race made a node fail
// to start now and then when ports were picked by binding port 0).
#ifndef CHAT_TESTS_SUPPORT_FREE_PORTS_H_
#define CHAT_TESTS_SUPPORT_FREE_PORTS_H_

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <random>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>

namespace chat::testing {

inline std::vector<uint16_t> freePorts(size_t n) {
  int ephemeralLow = 32768;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> ephemeralLow;
  int low = 10000;
  int high = std::max(low + 1000, ephemeralLow) - 1;
  std::mt19937 random(static_cast<uint32_t>(
      std::chrono::steady_clock::now().time_since_epoch().count() ^ (::getpid() << 16)));
  std::uniform_int_distribution<int> pick(low, high);
  std::vector<Poco::Net::ServerSocket> held;  // all held at once, so the ports differ
  std::vector<uint16_t> ports;
  for (int attempt = 0; ports.size() < n && attempt < 10000; ++attempt) {
    auto port = static_cast<uint16_t>(pick(random));
    try {
      Poco::Net::ServerSocket s;
      s.bind(Poco::Net::SocketAddress("127.0.0.1", port), false);
      s.listen(1);
      held.push_back(std::move(s));
      ports.push_back(port);
    } catch (const Poco::Exception&) {
      // taken: try another
    }
  }
  return ports;
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_FREE_PORTS_H_
