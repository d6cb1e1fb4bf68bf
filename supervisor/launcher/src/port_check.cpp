#include "chat/launcher/port_check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <fstream>
#include <set>
#include <sstream>

namespace chat::launcher {

namespace {

constexpr const char* kListenState = "0A";  // TCP_LISTEN in /proc/net/tcp's st column

// The socket inodes listening on `port`, from the kernel's tables.
std::set<std::string> listeningInodes(uint16_t port) {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      size_t colon = local.rfind(':');
      if (colon == std::string::npos || state != kListenState) {
        continue;
      }
      if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) {
        inodes.insert(inode);
      }
    }
  }
  return inodes;
}

bool resolve(const std::string& host, sockaddr_in& out) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return false;
  }
  out = *reinterpret_cast<sockaddr_in*>(found->ai_addr);
  ::freeaddrinfo(found);
  return true;
}

// Binds as chat-node does (SO_REUSEADDR, so a port only in TIME_WAIT counts as free).
bool isTaken(const sockaddr_in& where) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool taken = ::bind(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0 &&
               errno == EADDRINUSE;
  ::close(fd);
  return taken;
}

}  // namespace

TakenPort holderOf(const PortUse& use) {
  TakenPort out{use, 0, {}};
  std::set<std::string> inodes = listeningInodes(use.port);
  if (inodes.empty()) {
    return out;
  }
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return out;
  }
  while (dirent* entry = ::readdir(proc)) {
    std::string pid = entry->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::string fdDir = "/proc/" + pid + "/fd";
    DIR* fds = ::opendir(fdDir.c_str());
    if (fds == nullptr) {
      continue;  // another user's process: not ours to see
    }
    bool found = false;
    while (dirent* fd = ::readdir(fds)) {
      char target[PATH_MAX];
      std::string link = fdDir + "/" + fd->d_name;
      ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0) {
        continue;
      }
      std::string text(target, static_cast<size_t>(n));
      // "socket:[12345]"
      if (text.rfind("socket:[", 0) == 0 && inodes.count(text.substr(8, text.size() - 9)) > 0) {
        found = true;
        break;
      }
    }
    ::closedir(fds);
    if (found) {
      out.pid = std::stoi(pid);
      std::ifstream comm("/proc/" + pid + "/comm");
      std::getline(comm, out.process);
      break;
    }
  }
  ::closedir(proc);
  return out;
}

std::vector<TakenPort> takenPorts(const std::vector<PortUse>& uses) {
  std::vector<TakenPort> out;
  for (const auto& use : uses) {
    sockaddr_in where{};
    if (use.port == 0 || !resolve(use.host, where)) {
      continue;
    }
    where.sin_port = htons(use.port);
    if (isTaken(where)) {
      out.push_back(holderOf(use));
    }
  }
  return out;
}

}  // namespace chat::launcher
