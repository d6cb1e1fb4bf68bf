// chat-hostile: attacks a running chat-node the way the hostile-client tests do, but for as
// long as asked and at a chosen rate, so that chat-bench can measure what the node's other
// clients see meanwhile (docs/benchmarks.md, "Under attack").
//
//   chat-hostile --server HOST:PORT --kind garbage|half|churn|guess|all [--rate R]
//                [--seconds S] [--connections N]
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "chat/common/process_info.h"
#include "chat/protocol/message_codec.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kUsage =
    "usage: chat-hostile --server HOST:PORT --kind garbage|half|churn|guess|all\n"
    "                    [--rate R] [--seconds S] [--connections N] [--from ADDRESS]\n"
    "  garbage      R connections a second, each sending 1-4096 random bytes, then closing\n"
    "  half         N connections (default 1000) that announce a huge frame or send half a\n"
    "               frame and then say nothing; reopened when the node closes them\n"
    "  churn        R connections a second opened and dropped at once\n"
    "  guess        R logins a second with wrong passwords for existing and made-up users\n"
    "  all          every kind at once\n"
    "  --rate R     operations a second per kind (default 500)\n"
    "  --seconds S  how long (default 30)\n"
    "  --from A     connect from local address A (e.g. 127.0.0.2), so that the node's\n"
    "               per-address lockout of guessers does not also hit a benchmark running\n"
    "               from 127.0.0.1\n";

struct Target {
  sockaddr_in addr{};
  sockaddr_in from{};
  bool bindFrom = false;
  std::string hostPort;
};

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
                              ? std::string("\x7f\xff\xff\xff\x03\x00\x0b", 7)
                              : std::string("\x00\x00\x10\x00\x03\x00\x03\x00\x00\x00", 10);
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
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "chat-hostile: %s needs a value\n%s", a.c_str(), kUsage);
      return 2;
    }
    std::string v = argv[++i];
    try {
      if (a == "--server") {
        server = v;
      } else if (a == "--kind") {
        kind = v;
      } else if (a == "--rate") {
        rate = std::stoi(v);
      } else if (a == "--seconds") {
        seconds = std::stoi(v);
      } else if (a == "--from") {
        from = v;
      } else if (a == "--connections") {
        connections = std::stoi(v);
      } else {
        std::fprintf(stderr, "chat-hostile: unknown option '%s'\n%s", a.c_str(), kUsage);
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "chat-hostile: %s takes a number, not '%s'\n", a.c_str(), v.c_str());
      return 2;
    }
  }
  bool known = kind == "garbage" || kind == "half" || kind == "churn" || kind == "guess" ||
               kind == "all";
  size_t colon = server.rfind(':');
  if (!known || colon == std::string::npos || rate <= 0 || seconds <= 0 || connections <= 0) {
    std::fprintf(stderr, "chat-hostile: give --server HOST:PORT and a --kind\n%s", kUsage);
    return 2;
  }
  Target t;
  t.hostPort = server;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(server.substr(0, colon).c_str(), server.substr(colon + 1).c_str(), &hints,
                    &found) != 0 || found == nullptr) {
    std::fprintf(stderr, "chat-hostile: cannot resolve %s\n", server.c_str());
    return 2;
  }
  std::memcpy(&t.addr, found->ai_addr, sizeof t.addr);
  ::freeaddrinfo(found);
  if (!from.empty()) {
    t.bindFrom = true;
    t.from.sin_family = AF_INET;
    if (::inet_pton(AF_INET, from.c_str(), &t.from.sin_addr) != 1) {
      std::fprintf(stderr, "chat-hostile: --from takes an IPv4 address, not '%s'\n", from.c_str());
      return 2;
    }
  }
  auto end = Clock::now() + std::chrono::seconds(seconds);
  std::atomic<long> done{0};
  std::vector<std::thread> threads;
  if (kind == "garbage" || kind == "all") {
    threads.emplace_back([&] { garbage(t, rate, end, done); });
  }
  if (kind == "half" || kind == "all") {
    threads.emplace_back([&] { half(t, connections, end, done); });
  }
  if (kind == "churn" || kind == "all") {
    threads.emplace_back([&] { churn(t, rate, end, done); });
  }
  if (kind == "guess" || kind == "all") {
    threads.emplace_back([&] { guess(t, rate, end, done); });
  }
  for (auto& th : threads) {
    th.join();
  }
  std::printf("chat-hostile: %s for %d s: %ld operations\n", kind.c_str(), seconds, done.load());
  return 0;
}
