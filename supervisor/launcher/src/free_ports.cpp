#include "chat/launcher/free_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>

namespace chat::launcher {

std::vector<uint16_t> freeLoopbackPorts(size_t n) {
  int ephemeralLow = 32768;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> ephemeralLow;
  int low = 10000;
  int high = std::max(low + 1000, ephemeralLow) - 1;
  std::mt19937 random(static_cast<uint32_t>(
      std::chrono::steady_clock::now().time_since_epoch().count() ^ (::getpid() << 16)));
  std::uniform_int_distribution<int> pick(low, high);
  std::vector<int> held;  // all held at once, so the ports differ
  std::vector<uint16_t> ports;
  for (int attempt = 0; ports.size() < n && attempt < 10000; ++attempt) {
    auto port = static_cast<uint16_t>(pick(random));
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      break;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd, 1) == 0) {
      held.push_back(fd);
      ports.push_back(port);
    } else {
      ::close(fd);
    }
  }
  for (int fd : held) {
    ::close(fd);
  }
  return ports;
}

}  // namespace chat::launcher
