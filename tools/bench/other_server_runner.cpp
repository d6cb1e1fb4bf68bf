#include "other_server_runner.h"

#include "bench_body.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace chat::bench {

namespace {

using Clock = std::chrono::steady_clock;

// A blocking TCP connection with a line/byte buffer, for the setup phase and then the run.
class Socket {
 public:
  Socket() = default;
  ~Socket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Socket(const Socket&) = delete;  // owns a descriptor
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&& other) noexcept : fd_(other.fd_), in_(std::move(other.in_)) { other.fd_ = -1; }

  Status connect(const std::string& hostPort) {
    auto colon = hostPort.rfind(':');
    if (colon == std::string::npos) {
      return Status::invalidArgument("server address " + hostPort + " lacks :PORT");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(hostPort.substr(colon + 1))));
    if (::inet_pton(AF_INET, hostPort.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
      return Status::invalidArgument("server address " + hostPort + " is not IPv4:PORT");
    }
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return Status::unavailable("cannot connect to " + hostPort + ": " + std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return Status::ok();
  }
  Status writeAll(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      if (n <= 0) {
        return Status::unavailable(std::string("the server closed the connection: ") +
                                   std::strerror(errno));
      }
      sent += static_cast<size_t>(n);
    }
    return Status::ok();
  }
  // Appends what is there to the buffer; false when the peer closed.
  bool readSome(int timeoutMs) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) <= 0) {
      return true;
    }
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n == 0) {
      return false;
    }
    if (n > 0) {
      in_.append(chunk, static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until a line containing `needle` arrived (within 10 s), answering IRC PINGs.
  Status awaitLine(const std::string& needle, const std::string& what) {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      size_t eol;
      while ((eol = in_.find("\r\n")) != std::string::npos) {
        std::string line = in_.substr(0, eol);
        in_.erase(0, eol + 2);
        if (line.rfind("PING ", 0) == 0) {
          CHAT_RETURN_IF_ERROR(writeAll("PONG " + line.substr(5) + "\r\n"));
        }
        if (line.find(needle) != std::string::npos) {
          return Status::ok();
        }
        if (line.rfind("ERROR", 0) == 0 || line.find(" 433 ") != std::string::npos ||
            line.find(" 464 ") != std::string::npos || line.find(" 491 ") != std::string::npos) {
          return Status::unavailable(what + " refused: " + line);
        }
      }
      if (!readSome(100)) {
        return Status::unavailable(what + ": the server closed the connection");
      }
    }
    return Status::timeout(what + ": no answer within 10 s");
  }
  int fd() const { return fd_; }
  std::string& input() { return in_; }

 private:
  int fd_ = -1;
  std::string in_;
};

// A Redis command in RESP: an array of bulk strings.
std::string respCommand(std::initializer_list<std::string_view> parts) {
  std::string out;
  out.push_back('*');
  out.append(std::to_string(parts.size()));
  out.append("\r\n");
  for (auto p : parts) {
    out.push_back('$');
    out.append(std::to_string(p.size()));
    out.append("\r\n");
    out.append(p);
    out.append("\r\n");
  }
  return out;
}

struct Pair {
  int index = 0;
  Socket sender;
  Socket recipient;
  std::string target;  // nick or channel
  int64_t nextSeq = 0;
  int64_t received = 0;
  int64_t duplicates = 0;
  std::vector<uint8_t> seen;
  double nextSendAt = 0;
  bool doneSending = false;
};

struct ThreadResult {
  std::vector<int64_t> latencies;
  double lastReceive = 0;
  Status status;
};

void record(Pair& p, ThreadResult& result, std::string_view body, int64_t now, double elapsed) {
  int64_t seq = 0;
  int64_t sentAt = 0;
  if (!parseBody(body, seq, sentAt) || seq < 0) {
    return;
  }
  if (static_cast<size_t>(seq) >= p.seen.size()) {
    p.seen.resize(static_cast<size_t>(seq) + 1024, 0);
  }
  if (p.seen[static_cast<size_t>(seq)]++ == 0) {
    ++p.received;
    result.latencies.push_back(now - sentAt);
    result.lastReceive = elapsed;
  } else {
    ++p.duplicates;
  }
}

// IRC: ":nick!user@host PRIVMSG target :body" lines; answers PINGs on `socket`. Calls
// onBody with each message's text and erases the complete lines from the socket's input.
template <typename OnBody>
void consumeIrcLines(Socket& socket, OnBody onBody) {
  std::string& in = socket.input();
  size_t start = 0;
  size_t eol;
  while ((eol = in.find("\r\n", start)) != std::string::npos) {
    std::string_view line(in.data() + start, eol - start);
    start = eol + 2;
    if (line.rfind("PING ", 0) == 0) {
      (void)socket.writeAll("PONG " + std::string(line.substr(5)) + "\r\n");
      continue;
    }
    size_t cmd = line.find(" PRIVMSG ");
    size_t colon = cmd == std::string_view::npos ? cmd : line.find(" :", cmd);
    if (colon != std::string_view::npos) {
      onBody(line.substr(colon + 2));
    }
  }
  in.erase(0, start);
}

// Redis: RESP arrays ["message", channel, body] on a subscriber's connection. Calls onBody
// with each body and erases the complete arrays from `in`.
template <typename OnBody>
void consumeRespMessages(std::string& in, OnBody onBody) {
  size_t at = 0;
  for (;;) {
    // *3\r\n$7\r\nmessage\r\n$<n>\r\n<channel>\r\n$<n>\r\n<body>\r\n
    size_t pos = at;
    if (pos >= in.size() || in[pos] != '*') {
      break;
    }
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) {
      break;
    }
    int count = std::atoi(in.c_str() + pos + 1);
    pos = eol + 2;
    std::vector<std::string_view> items;
    bool complete = true;
    for (int i = 0; i < count; ++i) {
      eol = pos < in.size() ? in.find("\r\n", pos) : std::string::npos;
      if (eol == std::string::npos) {
        complete = false;
        break;
      }
      if (in[pos] == ':') {  // an integer (the subscription count)
        items.emplace_back(in.data() + pos + 1, eol - pos - 1);
        pos = eol + 2;
        continue;
      }
      auto n = static_cast<size_t>(std::atol(in.c_str() + pos + 1));
      if (eol + 2 + n + 2 > in.size()) {
        complete = false;
        break;
      }
      items.emplace_back(in.data() + eol + 2, n);
      pos = eol + 2 + n + 2;
    }
    if (!complete) {
      break;
    }
    if (items.size() == 3 && items[0] == "message") {
      onBody(items[2]);
    }
    at = pos;
  }
  in.erase(0, at);
}

void consumeIrc(Pair& p, ThreadResult& result, int64_t now, double elapsed) {
  consumeIrcLines(p.recipient,
                  [&](std::string_view body) { record(p, result, body, now, elapsed); });
}

void consumeRedis(Pair& p, ThreadResult& result, int64_t now, double elapsed) {
  consumeRespMessages(p.recipient.input(),
                      [&](std::string_view body) { record(p, result, body, now, elapsed); });
}

// PUBLISH replies (":<receivers>\r\n") on the sender's connection: read and dropped.
void drainSender(Pair& p) {
  if (!p.sender.readSome(0)) {
    return;
  }
  std::string& in = p.sender.input();
  size_t last = in.rfind("\r\n");
  if (last != std::string::npos) {
    in.erase(0, last + 2);
  }
}

void drive(const BenchOptions& o, std::vector<Pair*>& pairs, Clock::time_point start,
           ThreadResult& result) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::unordered_map<int, std::pair<Pair*, bool>> byFd;  // fd -> (pair, is recipient)
  for (Pair* p : pairs) {
    for (bool recipient : {true, false}) {
      int fd = recipient ? p->recipient.fd() : p->sender.fd();
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      byFd[fd] = {p, recipient};
    }
  }
  const bool redis = o.protocol == BenchProtocol::kRedis;
  const bool rateMode = o.rate > 0;
  const double interval = rateMode ? static_cast<double>(o.pairs) / o.rate : 0;
  for (Pair* p : pairs) {
    p->nextSendAt = interval * static_cast<double>(p->index) / o.pairs;
  }
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double lastProgress = 0;
  int64_t lastCount = -1;
  epoll_event events[256];
  std::string batch;
  while (result.status.isOk()) {
    double now = elapsed();
    bool allDone = true;
    int64_t progress = 0;
    for (Pair* p : pairs) {
      batch.clear();
      while (!p->doneSending && (rateMode || p->nextSeq - p->received < o.window)) {
        if (rateMode) {
          if (now >= o.duration) {
            p->doneSending = true;
            break;
          }
          if (now < p->nextSendAt) {
            break;
          }
          p->nextSendAt += interval;
        } else if (p->nextSeq >= o.messages) {
          p->doneSending = true;
          break;
        }
        std::string body = makeBody(p->nextSeq++, o.size);
        batch += redis ? respCommand({"PUBLISH", p->target, body})
                       : "PRIVMSG " + p->target + " :" + body + "\r\n";
      }
      if (!batch.empty()) {
        if (Status s = p->sender.writeAll(batch); !s.isOk()) {
          result.status = s;
          break;
        }
      }
      if (!p->doneSending || p->received < p->nextSeq) {
        allDone = false;
      }
      progress += p->received;
    }
    if (allDone) {
      break;
    }
    if (progress != lastCount) {
      lastCount = progress;
      lastProgress = now;
    } else if (now - lastProgress > 30) {
      result.status = Status::timeout("no progress for 30 s: messages are missing");
      break;
    }
    int n = ::epoll_wait(ep, events, 256, rateMode ? 1 : 10);
    for (int i = 0; i < n; ++i) {
      auto it = byFd.find(events[i].data.fd);
      if (it == byFd.end()) {
        continue;
      }
      Pair& p = *it->second.first;
      if (!it->second.second) {
        drainSender(p);
        continue;
      }
      if (!p.recipient.readSome(0)) {
        result.status = Status::unavailable("the server closed a recipient's connection");
        break;
      }
      if (redis) {
        consumeRedis(p, result, nowNanos(), elapsed());
      } else {
        consumeIrc(p, result, nowNanos(), elapsed());
      }
    }
  }
  ::close(ep);
}

Status setUpIrc(const BenchOptions& o, Pair& p) {
  std::string server = o.servers.front();
  std::string senderNick = "s" + std::to_string(p.index);
  std::string recipientNick = "r" + std::to_string(p.index);
  p.target = recipientNick;
  for (auto [socket, nick] : {std::pair{&p.sender, senderNick}, {&p.recipient, recipientNick}}) {
    CHAT_RETURN_IF_ERROR(socket->connect(server));
    CHAT_RETURN_IF_ERROR(socket->writeAll("NICK " + nick + "\r\nUSER " + nick + " 0 * :bench\r\n"));
    CHAT_RETURN_IF_ERROR(socket->awaitLine(" 001 ", "registering " + nick));
    if (!o.ircOper.empty()) {
      // An IRC operator may lift its own flood protection (user mode F), as a bot would
      // be allowed to on a network that wants it fast.
      auto colon = o.ircOper.find(':');
      CHAT_RETURN_IF_ERROR(socket->writeAll("OPER " + o.ircOper.substr(0, colon) + " " +
                                            o.ircOper.substr(colon + 1) + "\r\n"));
      CHAT_RETURN_IF_ERROR(socket->awaitLine(" 381 ", "OPER for " + nick));
      CHAT_RETURN_IF_ERROR(socket->writeAll("MODE " + nick + " +F\r\n"));
      CHAT_RETURN_IF_ERROR(socket->awaitLine("+F", "MODE +F for " + nick));
    }
  }
  return Status::ok();
}

Status setUpRedis(const BenchOptions& o, Pair& p) {
  std::string server = o.servers.front();
  p.target = "chat-bench-" + std::to_string(p.index);
  CHAT_RETURN_IF_ERROR(p.sender.connect(server));
  CHAT_RETURN_IF_ERROR(p.recipient.connect(server));
  CHAT_RETURN_IF_ERROR(p.recipient.writeAll(respCommand({"SUBSCRIBE", p.target})));
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (p.recipient.input().find("subscribe") == std::string::npos) {
    if (Clock::now() > deadline || !p.recipient.readSome(100)) {
      return Status::unavailable("Redis did not confirm SUBSCRIBE " + p.target);
    }
  }
  p.recipient.input().clear();
  return Status::ok();
}

// ---- Rooms: an IRC channel, a Redis channel ----

// A member of the room: its connection (an IRC client in the channel, or a Redis subscriber),
// and for Redis senders a second connection to PUBLISH on (a subscribed one cannot).
struct RoomMember {
  int index = 0;
  Socket in;
  Socket out;  // Redis senders only
  bool sender = false;
  int64_t nextSeq = 0;
  double nextSendAt = 0;
  bool doneSending = false;
  std::unordered_map<int64_t, int> seen;  // message key -> copies
};

struct RoomThreadResult {
  std::vector<int64_t> latencies;
  std::unordered_map<int64_t, std::pair<int64_t, int64_t>> firstAndLast;  // key -> (sent, last)
  std::unordered_map<int64_t, int> copies;  // key -> members of this thread that got it
  double lastReceive = 0;
  Status status;
};

int64_t roomKey(int sender, int64_t seq) {
  return (static_cast<int64_t>(sender) << 32) | seq;
}

void recordRoom(RoomMember& m, RoomThreadResult& r, std::string_view body, int64_t now,
                double elapsed) {
  int64_t key = 0;
  int64_t sentAt = 0;
  if (!parseBody(body, key, sentAt) || (key >> 32) == m.index) {
    return;  // not ours, or the member's own (Redis echoes it to the sender's subscription)
  }
  if (m.seen[key]++ > 0) {
    return;  // counted as doubled at the end
  }
  r.latencies.push_back(now - sentAt);
  auto& fl = r.firstAndLast[key];
  fl.first = sentAt;
  fl.second = std::max(fl.second, now);
  ++r.copies[key];
  r.lastReceive = elapsed;
}

void consumeRoom(RoomMember& m, RoomThreadResult& r, bool redis, int64_t now, double elapsed) {
  auto onBody = [&](std::string_view body) { recordRoom(m, r, body, now, elapsed); };
  if (redis) {
    consumeRespMessages(m.in.input(), onBody);
  } else {
    consumeIrcLines(m.in, onBody);
  }
}

void driveRoom(const BenchOptions& o, const std::string& channel, int senders,
               std::vector<RoomMember*>& mine, Clock::time_point start, int64_t& expectedTotal,
               std::atomic<int64_t>& receivedTotal, std::atomic<int>& sendersDone,
               RoomThreadResult& result) {
  const bool redis = o.protocol == BenchProtocol::kRedis;
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::unordered_map<int, std::pair<RoomMember*, bool>> byFd;  // fd -> (member, is `in`)
  for (RoomMember* m : mine) {
    for (bool in : {true, false}) {
      int fd = in ? m->in.fd() : m->out.fd();
      if (fd < 0) {
        continue;
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      byFd[fd] = {m, in};
    }
  }
  const double interval = static_cast<double>(senders) / o.rate;
  for (RoomMember* m : mine) {
    m->nextSendAt = interval * m->index / std::max(senders, 1);
  }
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double lastProgress = 0;
  int64_t lastCount = -1;
  epoll_event events[256];
  while (result.status.isOk()) {
    double now = elapsed();
    for (RoomMember* m : mine) {
      if (!m->sender || m->doneSending) {
        continue;
      }
      std::string batch;
      while (!m->doneSending) {
        if (now >= o.duration) {
          m->doneSending = true;
          break;
        }
        if (now < m->nextSendAt) {
          break;
        }
        m->nextSendAt += interval;
        std::string body = makeBody(roomKey(m->index, m->nextSeq++), o.size);
        batch += redis ? respCommand({"PUBLISH", channel, body})
                       : "PRIVMSG " + channel + " :" + body + "\r\n";
      }
      if (m->doneSending) {
        sendersDone.fetch_add(1);
      }
      if (!batch.empty()) {
        Socket& s = redis ? m->out : m->in;
        if (Status st = s.writeAll(batch); !st.isOk()) {
          result.status = st;
          break;
        }
      }
    }
    int64_t received = receivedTotal.load();
    if (sendersDone.load() == senders && received >= expectedTotal) {
      break;
    }
    if (received != lastCount) {
      lastCount = received;
      lastProgress = now;
    } else if (now - lastProgress > 30) {
      result.status = Status::timeout("no progress for 30 s: room messages are missing");
      break;
    }
    int n = ::epoll_wait(ep, events, 256, 1);
    for (int i = 0; i < n; ++i) {
      auto it = byFd.find(events[i].data.fd);
      if (it == byFd.end()) {
        continue;
      }
      RoomMember& m = *it->second.first;
      if (!it->second.second) {
        if (m.out.readSome(0)) {  // PUBLISH replies: dropped
          m.out.input().clear();
        }
        continue;
      }
      if (!m.in.readSome(0)) {
        result.status = Status::unavailable("the server closed a member's connection");
        break;
      }
      size_t before = result.latencies.size();
      consumeRoom(m, result, redis, nowNanos(), elapsed());
      receivedTotal.fetch_add(static_cast<int64_t>(result.latencies.size() - before));
    }
  }
  ::close(ep);
}

Status setUpRoomMember(const BenchOptions& o, RoomMember& m, const std::string& channel,
                       const std::string& run) {
  std::string server = o.servers.front();
  CHAT_RETURN_IF_ERROR(m.in.connect(server));
  if (o.protocol == BenchProtocol::kRedis) {
    CHAT_RETURN_IF_ERROR(m.in.writeAll(respCommand({"SUBSCRIBE", channel})));
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (m.in.input().find("subscribe") == std::string::npos) {
      if (Clock::now() > deadline || !m.in.readSome(100)) {
        return Status::unavailable("Redis did not confirm SUBSCRIBE " + channel);
      }
    }
    m.in.input().clear();
    if (m.sender) {
      CHAT_RETURN_IF_ERROR(m.out.connect(server));
    }
    return Status::ok();
  }
  std::string nick = "m" + run + std::to_string(m.index);
  CHAT_RETURN_IF_ERROR(m.in.writeAll("NICK " + nick + "\r\nUSER " + nick + " 0 * :bench\r\n"));
  CHAT_RETURN_IF_ERROR(m.in.awaitLine(" 001 ", "registering " + nick));
  if (!o.ircOper.empty()) {
    auto colon = o.ircOper.find(':');
    CHAT_RETURN_IF_ERROR(m.in.writeAll("OPER " + o.ircOper.substr(0, colon) + " " +
                                       o.ircOper.substr(colon + 1) + "\r\n"));
    CHAT_RETURN_IF_ERROR(m.in.awaitLine(" 381 ", "OPER for " + nick));
    CHAT_RETURN_IF_ERROR(m.in.writeAll("MODE " + nick + " +F\r\n"));
    CHAT_RETURN_IF_ERROR(m.in.awaitLine("+F", "MODE +F for " + nick));
  }
  CHAT_RETURN_IF_ERROR(m.in.writeAll("JOIN " + channel + "\r\n"));
  CHAT_RETURN_IF_ERROR(m.in.awaitLine(" 366 ", "JOIN " + channel + " for " + nick));  // end of NAMES
  m.in.input().clear();
  return Status::ok();
}

}  // namespace

Result<RoomBenchResult> runOtherServerRoomBench(const BenchOptions& o) {
  const int n = o.roomMembers;
  const int senders = std::min(o.roomSenders, n);
  std::string run = std::to_string(::getpid() % 100000);
  std::string channel = "#bench" + run;
  std::vector<RoomMember> members(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    RoomMember& m = members[static_cast<size_t>(i)];
    m.index = i;
    m.sender = i < senders;
    CHAT_RETURN_IF_ERROR(setUpRoomMember(o, m, channel, run));
  }
  int threads = std::max(1, std::min(o.threads, n));
  std::vector<std::vector<RoomMember*>> shares(static_cast<size_t>(threads));
  for (size_t i = 0; i < members.size(); ++i) {
    shares[i % shares.size()].push_back(&members[i]);
  }
  // Every message reaches every other member; the senders' schedules fix how many there are.
  int64_t perSender = static_cast<int64_t>(o.duration * o.rate / senders + 0.5);
  int64_t expected = perSender * senders * (n - 1);
  std::atomic<int64_t> received{0};
  std::atomic<int> sendersDone{0};
  std::vector<RoomThreadResult> results(shares.size());
  auto start = Clock::now();
  {
    std::vector<std::jthread> workers;
    for (size_t t = 0; t < shares.size(); ++t) {
      workers.emplace_back([&, t] {
        driveRoom(o, channel, senders, shares[t], start, expected, received, sendersDone,
                  results[t]);
      });
    }
  }
  RoomBenchResult r;
  r.members = n;
  r.senders = senders;
  std::vector<int64_t> latencies;
  std::unordered_map<int64_t, std::pair<int64_t, int64_t>> firstAndLast;
  std::unordered_map<int64_t, int> copies;
  Status failure;
  for (auto& t : results) {
    latencies.insert(latencies.end(), t.latencies.begin(), t.latencies.end());
    r.seconds = std::max(r.seconds, t.lastReceive);
    for (const auto& [key, fl] : t.firstAndLast) {
      auto& all = firstAndLast[key];
      all.first = fl.first;
      all.second = std::max(all.second, fl.second);
    }
    for (const auto& [key, c] : t.copies) {
      copies[key] += c;
    }
    if (!t.status.isOk() && failure.isOk()) {
      failure = t.status;
    }
  }
  for (const auto& m : members) {
    r.messages += m.nextSeq;
    for (const auto& [key, c] : m.seen) {
      ++r.deliveries;
      r.duplicates += c - 1;
    }
  }
  std::vector<int64_t> last;
  for (const auto& [key, c] : copies) {
    if (c == n - 1) {
      last.push_back(firstAndLast[key].second - firstAndLast[key].first);
    }
  }
  finishRoomResult(r, std::move(latencies), std::move(last));
  if (!failure.isOk()) {
    return failure;
  }
  return r;
}

Result<BenchResult> runOtherServerBench(const BenchOptions& o) {
  std::vector<Pair> pairs(static_cast<size_t>(o.pairs));
  for (size_t i = 0; i < pairs.size(); ++i) {
    pairs[i].index = static_cast<int>(i);
    pairs[i].seen.resize(o.rate > 0 ? 1024 : static_cast<size_t>(o.messages), 0);
    Status s = o.protocol == BenchProtocol::kIrc ? setUpIrc(o, pairs[i]) : setUpRedis(o, pairs[i]);
    if (!s.isOk()) {
      return s;
    }
  }
  int threads = std::min(o.threads, o.pairs);
  std::vector<std::vector<Pair*>> shares(static_cast<size_t>(threads));
  for (size_t i = 0; i < pairs.size(); ++i) {
    shares[i % shares.size()].push_back(&pairs[i]);
  }
  std::vector<ThreadResult> results(shares.size());
  auto start = Clock::now();
  {
    std::vector<std::jthread> workers;
    for (size_t t = 0; t < shares.size(); ++t) {
      workers.emplace_back([&, t] { drive(o, shares[t], start, results[t]); });
    }
  }
  BenchResult result;
  std::vector<int64_t> latencies;
  Status failure;
  for (auto& r : results) {
    latencies.insert(latencies.end(), r.latencies.begin(), r.latencies.end());
    result.seconds = std::max(result.seconds, r.lastReceive);
    if (!r.status.isOk() && failure.isOk()) {
      failure = r.status;
    }
  }
  for (const auto& p : pairs) {
    result.sent += p.nextSeq;
    result.received += p.received;
    result.duplicates += p.duplicates;
    result.missing += p.nextSeq - p.received;
  }
  if (!failure.isOk()) {
    return failure;
  }
  std::sort(latencies.begin(), latencies.end());
  result.messagesPerSecond =
      result.seconds > 0 ? static_cast<double>(result.received) / result.seconds : 0;
  result.p50Micros = percentile(latencies, 0.50);
  result.p99Micros = percentile(latencies, 0.99);
  result.p999Micros = percentile(latencies, 0.999);
  result.maxMicros = latencies.empty() ? 0 : static_cast<double>(latencies.back()) / 1000.0;
  return result;
}

}  // namespace chat::bench
