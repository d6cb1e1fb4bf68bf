// chat-hostile: attacks a running chat-node the way the hostile-client tests do, but for as
// long as asked and at a chosen rate, so that chat-bench can measure what the node's other
// clients see meanwhile (docs/benchmarks.md, "Under attack").
//
//   chat-hostile --server HOST:PORT --kind K[,K...] [options]   (see kUsage)
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "chat/client/connection.h"
#include "chat/common/command_line.h"
#include "chat/common/process_info.h"
#include "chat/protocol/message_codec.h"
#include "chat/protocol/suite_version.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kUsage =
    "usage: chat-hostile --server HOST:PORT --kind K[,K...] [options]\n"
    "Attacks a running chat-node for as long as asked, at a chosen rate.\n"
    "\n"
    "  --server H:P       the node's client port (required)\n"
    "  --kind K[,K...]    what to do (required), one or more of:\n"
    "      garbage        R connections a second, each sending 1-4096 random bytes, then closing\n"
    "      half           N connections that announce a huge frame or send half a frame and\n"
    "                     then say nothing; reopened when the node closes them\n"
    "      churn          R connections a second opened and dropped at once\n"
    "      guess          R logins a second with wrong passwords for existing and made-up users\n"
    "      queue          a logged-in account sends to one victim R times a second, pipelined,\n"
    "                     never reading its replies until the end (quotas, rates, bounded queues)\n"
    "      peer           R connections a second to the peer port (--peer) that send random\n"
    "                     bytes and then stay silent, up to N held\n"
    "      slow-admin     N connections to the admin port (--admin), each trickling a request\n"
    "                     a byte every 500 ms; reopened when the node closes them\n"
    "      all            every kind at once (peer and slow-admin when their port is given)\n"
    "  --rate R           operations a second per kind (default 500)\n"
    "  --seconds S        how long (default 30)\n"
    "  --connections N    connections held by half, peer and slow-admin (default 1000)\n"
    "  --peer H:P         a node's peer port, for peer\n"
    "  --admin H:P        a node's admin port, for slow-admin\n"
    "  --from A           connect from local address A (e.g. 127.0.0.2), so that the node's\n"
    "                     per-address lockout of guessers does not also hit a benchmark\n"
    "                     running from 127.0.0.1\n"
    "  --version          the suite's version and the protocol versions it speaks\n"
    "Every option may also be written --name=VALUE.\n";

struct Target {
  sockaddr_in addr{};
  sockaddr_in from{};
  bool bindFrom = false;
  std::string hostPort;
};

// HOST:PORT as an IPv4 address, or a message saying what is wrong with it.
std::string resolve(const std::string& hostPort, sockaddr_in& out) {
  size_t colon = hostPort.rfind(':');
  if (colon == std::string::npos) {
    return "give HOST:PORT, not '" + hostPort + "'";
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(hostPort.substr(0, colon).c_str(), hostPort.substr(colon + 1).c_str(), &hints,
                    &found) != 0 ||
      found == nullptr) {
    return "cannot resolve " + hostPort;
  }
  std::memcpy(&out, found->ai_addr, sizeof out);
  ::freeaddrinfo(found);
  return {};
}

// True once the peer closed `fd` (or it failed); never blocks.
bool closedByPeer(int fd) {
  char b;
  ssize_t n = ::recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

int open(const Target& t) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && t.bindFrom &&
      ::bind(fd, reinterpret_cast<const sockaddr*>(&t.from), sizeof t.from) != 0) {
    ::close(fd);
    return -1;
  }
  if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Runs `op` `rate` times a second until `end`.
template <typename Op>
void paced(int rate, Clock::time_point end, Op op) {
  auto interval = std::chrono::nanoseconds(1'000'000'000 / std::max(rate, 1));
  auto next = Clock::now();
  while (Clock::now() < end) {
    op();
    next += interval;
    if (next > Clock::now()) {
      std::this_thread::sleep_until(next);
    } else if (Clock::now() - next > 1s) {
      next = Clock::now();
    }
  }
}

void garbage(const Target& t, int rate, Clock::time_point end, std::atomic<long>& done) {
  std::mt19937 random(1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(1, 4096);
  paced(rate, end, [&] {
    int fd = open(t);
    if (fd < 0) {
      return;
    }
    std::string junk(static_cast<size_t>(length(random)), '\0');
    for (char& c : junk) {
      c = static_cast<char>(byte(random));
    }
    (void)!::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::close(fd);
    ++done;
  });
}

void churn(const Target& t, int rate, Clock::time_point end, std::atomic<long>& done) {
  paced(rate, end, [&] {
    int fd = open(t);
    if (fd >= 0) {
      ::close(fd);
      ++done;
    }
  });
}

void half(const Target& t, int connections, Clock::time_point end, std::atomic<long>& done) {
  std::vector<int> held;
  while (Clock::now() < end) {
    // Top up to `connections`, dropping the ones the node closed.
    std::erase_if(held, [](int fd) {
      char b;
      ssize_t n = ::recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        ::close(fd);
        return true;
      }
      return false;
    });
    while (static_cast<int>(held.size()) < connections && Clock::now() < end) {
      int fd = open(t);
      if (fd < 0) {
        break;
      }
      std::string bytes = held.size() % 2 == 0
                              ? std::string("\x7f\xff\xff\xff\x04\x00\x0b", 7)
                              : std::string("\x00\x00\x10\x00\x04\x00\x03\x00\x00\x00", 10);
      (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      held.push_back(fd);
      ++done;
    }
    std::this_thread::sleep_for(100ms);
  }
  for (int fd : held) {
    ::close(fd);
  }
}

// Holds up to `connections` to a node's peer port, opening `rate` a second: each sends 64
// random bytes (no valid handshake) and then nothing. The node must drop them within its
// handshake deadline and keep replicating.
void peer(const Target& t, int rate, int connections, Clock::time_point end,
          std::atomic<long>& done) {
  std::mt19937 random(2);
  std::vector<int> held;
  paced(rate, end, [&] {
    std::erase_if(held, [](int fd) {
      if (closedByPeer(fd)) {
        ::close(fd);
        return true;
      }
      return false;
    });
    if (static_cast<int>(held.size()) >= connections) {
      return;
    }
    int fd = open(t);
    if (fd < 0) {
      return;
    }
    std::string junk(64, '\0');
    for (char& c : junk) {
      c = static_cast<char>(random());
    }
    (void)!::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    held.push_back(fd);
    ++done;
  });
  for (int fd : held) {
    ::close(fd);
  }
}

// Slowloris on the admin port: `connections` requests, each trickled a byte every 500 ms.
void slowAdmin(const Target& t, int connections, Clock::time_point end, std::atomic<long>& done) {
  std::vector<int> held;
  while (Clock::now() < end) {
    std::erase_if(held, [](int fd) {
      if (closedByPeer(fd)) {
        ::close(fd);
        return true;
      }
      return false;
    });
    while (static_cast<int>(held.size()) < connections) {
      int fd = open(t);
      if (fd < 0) {
        break;
      }
      static const std::string kStart = "GET /metrics HTTP/1.1\r\nX-Slow: ";
      (void)!::send(fd, kStart.data(), kStart.size(), MSG_NOSIGNAL);
      held.push_back(fd);
      ++done;
    }
    for (int fd : held) {
      (void)!::send(fd, "a", 1, MSG_NOSIGNAL);
    }
    std::this_thread::sleep_for(500ms);
  }
  for (int fd : held) {
    ::close(fd);
  }
}

// A logged-in account floods one victim: `rate` sends a second, pipelined, replies read only
// at the end. The node must refuse what is beyond the per-sender rate and the victim's quota,
// hold no more of the connection's requests than its bound, and serve everyone else.
void queueFlood(const Target& t, int rate, Clock::time_point end, std::atomic<long>& done) {
  std::string suffix = std::to_string(::getpid());
  std::string attacker = "mallory" + suffix;
  std::string victim = "victim" + suffix;
  auto c = chat::client::Connection::connect(t.hostPort, std::chrono::milliseconds(5000));
  if (!c) {
    std::fprintf(stderr, "chat-hostile: queue: %s\n", c.error().message().c_str());
    return;
  }
  auto& conn = **c;
  for (const auto& name : {attacker, victim}) {
    (void)conn.call(chat::protocol::CreateRequest{name, "pw-" + name},
                    std::chrono::milliseconds(10000));
  }
  auto login = conn.call(chat::protocol::LoginRequest{attacker, "pw-" + attacker},
                         std::chrono::milliseconds(10000));
  if (!login || !login->isOk()) {
    std::fprintf(stderr, "chat-hostile: queue: cannot log in as %s: %s\n", attacker.c_str(),
                 login ? login->error.c_str() : login.error().message().c_str());
    return;
  }
  std::string body(4000, 'q');
  paced(rate, end, [&] {
    conn.queueRequest(conn.nextRequestId(), chat::protocol::SendRequest{victim, body});
    (void)conn.flush(std::chrono::milliseconds(0));  // what the socket takes; never waits
    ++done;
  });
  // Now read what came back: how much was stored and how much refused, and why.
  long stored = 0;
  long refused = 0;
  auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline) {
    (void)conn.flush(std::chrono::milliseconds(100));
    auto m = conn.receive(std::chrono::milliseconds(500));
    if (!m || !m->has_value()) {
      break;
    }
    if (auto* r = std::get_if<chat::protocol::Response>(&**m)) {
      (r->isOk() ? stored : refused) += 1;
    }
  }
  std::printf("chat-hostile: queue: %ld sends queued, %ld stored, %ld refused\n", done.load(),
              stored, refused);
}

void guess(const Target& t, int rate, Clock::time_point end, std::atomic<long>& done) {
  int fd = open(t);
  if (fd < 0) {
    return;
  }
  long n = 0;
  char sink[65536];
  paced(rate, end, [&] {
    // Existing accounts (chat-bench's and the usual names) and made-up ones, wrong passwords.
    std::string user = n % 3 == 0 ? "alice" : n % 3 == 1 ? "bob" : "user" + std::to_string(n % 50);
    std::vector<uint8_t> frame;
    chat::protocol::appendRequestFrame(static_cast<uint64_t>(n + 1),
                                       chat::protocol::LoginRequest{user, "guess" + std::to_string(n)},
                                       frame);
    (void)!::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
    while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
      // the answers are not read for their content
    }
    ++n;
    ++done;
  });
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  chat::keepNewFilesPrivate();  // umask 077: what we write holds messages and secrets
  std::string server;
  std::string kind;
  int rate = 500;
  int seconds = 30;
  int connections = 1000;
  std::string from;
  std::string peerServer;
  std::string adminServer;
  chat::CommandLine line("chat-hostile");
  line.text("--server", server)
      .text("--kind", kind)
      .number("--rate", rate, 1, 1000000)
      .number("--seconds", seconds, 1, 1000000)
      .number("--connections", connections, 1, 1000000)
      .text("--from", from)
      .text("--peer", peerServer)
      .text("--admin", adminServer);
  if (auto exit = chat::finishCommandLine("chat-hostile", line.parse(argc, argv), kUsage,
                                          chat::protocol::versionText("chat-hostile"))) {
    return *exit;
  }
  if (kind.empty() || server.empty()) {
    std::fprintf(stderr, "chat-hostile: give --server HOST:PORT and a --kind\n%s", kUsage);
    return 2;
  }
  // Kinds, comma-separated; "all" is every kind whose target was given.
  std::vector<std::string> kinds;
  for (size_t at = 0; at <= kind.size();) {
    size_t comma = kind.find(',', at);
    std::string k = kind.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (k == "all") {
      kinds.insert(kinds.end(), {"garbage", "half", "churn", "guess", "queue"});
      if (!peerServer.empty()) {
        kinds.push_back("peer");
      }
      if (!adminServer.empty()) {
        kinds.push_back("slow-admin");
      }
    } else if (k == "garbage" || k == "half" || k == "churn" || k == "guess" || k == "queue" ||
               k == "peer" || k == "slow-admin") {
      kinds.push_back(k);
    } else {
      std::fprintf(stderr, "chat-hostile: unknown kind '%s'\n%s", k.c_str(), kUsage);
      return 2;
    }
    if (comma == std::string::npos) {
      break;
    }
    at = comma + 1;
  }
  auto wants = [&](const char* k) { return std::find(kinds.begin(), kinds.end(), k) != kinds.end(); };
  if ((wants("peer") && peerServer.empty()) || (wants("slow-admin") && adminServer.empty())) {
    std::fprintf(stderr, "chat-hostile: peer needs --peer HOST:PORT and slow-admin needs --admin "
                         "HOST:PORT\n");
    return 2;
  }
  Target t;
  t.hostPort = server;
  if (std::string why = resolve(server, t.addr); !why.empty()) {
    std::fprintf(stderr, "chat-hostile: --server: %s\n", why.c_str());
    return 2;
  }
  Target peerTarget;
  Target adminTarget;
  for (auto [name, text, target] : {std::tuple{"--peer", &peerServer, &peerTarget},
                                    std::tuple{"--admin", &adminServer, &adminTarget}}) {
    if (text->empty()) {
      continue;
    }
    target->hostPort = *text;
    if (std::string why = resolve(*text, target->addr); !why.empty()) {
      std::fprintf(stderr, "chat-hostile: %s: %s\n", name, why.c_str());
      return 2;
    }
  }
  if (!from.empty()) {
    t.bindFrom = true;
    t.from.sin_family = AF_INET;
    if (::inet_pton(AF_INET, from.c_str(), &t.from.sin_addr) != 1) {
      std::fprintf(stderr, "chat-hostile: --from takes an IPv4 address, not '%s'\n", from.c_str());
      return 2;
    }
    peerTarget.bindFrom = adminTarget.bindFrom = true;
    peerTarget.from = adminTarget.from = t.from;
  }
  auto end = Clock::now() + std::chrono::seconds(seconds);
  std::atomic<long> done{0};
  std::vector<std::thread> threads;
  if (wants("garbage")) {
    threads.emplace_back([&] { garbage(t, rate, end, done); });
  }
  if (wants("half")) {
    threads.emplace_back([&] { half(t, connections, end, done); });
  }
  if (wants("churn")) {
    threads.emplace_back([&] { churn(t, rate, end, done); });
  }
  if (wants("guess")) {
    threads.emplace_back([&] { guess(t, rate, end, done); });
  }
  std::atomic<long> queued{0};
  if (wants("queue")) {
    threads.emplace_back([&] { queueFlood(t, rate, end, queued); });
  }
  if (wants("peer")) {
    threads.emplace_back([&] { peer(peerTarget, rate, connections, end, done); });
  }
  if (wants("slow-admin")) {
    threads.emplace_back([&] { slowAdmin(adminTarget, connections, end, done); });
  }
  for (auto& th : threads) {
    th.join();
  }
  std::printf("chat-hostile: %s for %d s: %ld operations\n", kind.c_str(), seconds,
              done.load() + queued.load());
  return 0;
}
