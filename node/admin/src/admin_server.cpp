#include "chat/admin/admin_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <thread>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "chat/common/process_info.h"
#include "chat/net/event_loop.h"

namespace chat::admin {

namespace {

using Clock = std::chrono::steady_clock;

// A request head larger than this is not a scraper's.
constexpr size_t kMaxHeadBytes = 8 * 1024;
// Connections at once; beyond it a new one is told "busy" and closed.
constexpr size_t kMaxConnections = 1024;

struct Reply {
  int status = 200;
  std::string reason = "OK";
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
  std::string extraHeaders;  // "Name: value\r\n" lines
};

std::string render(const Reply& r, bool withBody) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + r.reason +
                    "\r\nContent-Type: " + r.contentType +
                    "\r\nContent-Length: " + std::to_string(r.body.size()) +
                    "\r\nCache-Control: no-store\r\nConnection: close\r\nServer: chat-node\r\n" +
                    r.extraHeaders + "\r\n";
  if (withBody) {
    out += r.body;
  }
  return out;
}

// The reply to a complete request head (up to its blank line).
std::string answer(std::string_view head, const AdminPages& pages) {
  std::string_view line = head.substr(0, head.find_first_of("\r\n"));
  size_t space1 = line.find(' ');
  size_t space2 = space1 == std::string_view::npos ? space1 : line.find(' ', space1 + 1);
  if (space2 == std::string_view::npos || !line.substr(space2 + 1).starts_with("HTTP/1.")) {
    return render({400, "Bad Request", "text/plain; charset=utf-8",
                   "not an HTTP/1 request; try GET /metrics or GET /health\n", ""},
                  true);
  }
  std::string_view method = line.substr(0, space1);
  std::string_view target = line.substr(space1 + 1, space2 - space1 - 1);
  bool headOnly = method == "HEAD";
  if (method != "GET" && !headOnly) {
    return render({405, "Method Not Allowed", "text/plain; charset=utf-8",
                   "only GET and HEAD are served here; try GET /metrics or GET /health\n",
                   "Allow: GET, HEAD\r\n"},
                  true);
  }
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (!path.starts_with('/')) {
    return render({400, "Bad Request", "text/plain; charset=utf-8",
                   "the request path is not a valid URI; try /metrics or /health\n", ""},
                  true);
  }
  if (path == "/metrics") {
    return render({200, "OK", "text/plain; version=0.0.4; charset=utf-8", pages.metrics(), ""},
                  !headOnly);
  }
  if (path == "/health") {
    HealthReport report = pages.health();
    return render({report.healthy ? 200 : 503, report.healthy ? "OK" : "Service Unavailable",
                   "application/json", report.json + "\n", ""},
                  !headOnly);
  }
  // The path is echoed: printable ASCII only, so a log or terminal shows nothing else.
  std::string shown;
  for (char c : path.substr(0, 200)) {
    shown += (c > 0x20 && c < 0x7f) ? c : '?';
  }
  return render({404, "Not Found", "text/plain; charset=utf-8",
                 "no page " + shown + " here; the admin port serves /metrics and /health\n", ""},
                !headOnly);
}

// One admin connection: reads a request head, answers, closes. It lives at most `deadline`
// from its accept, however slowly its request trickles in.
class AdminConnection final : public net::LoopHandler,
                              public std::enable_shared_from_this<AdminConnection> {
 public:
  AdminConnection(net::EventLoop& loop, int fd, const AdminPages& pages, size_t& open,
                  std::chrono::milliseconds deadline)
      : loop_(loop), fd_(fd), pages_(pages), open_(open), until_(Clock::now() + deadline) {
    ++open_;
  }
  ~AdminConnection() override {
    ::close(fd_);
    --open_;
  }
  AdminConnection(const AdminConnection&) = delete;  // owns a socket
  AdminConnection& operator=(const AdminConnection&) = delete;

  void onEvents(uint32_t events) override {
    if ((events & EPOLLIN) != 0 && out_.empty()) {
      read();
    }
    if (!out_.empty()) {
      write();
    } else if ((events & (EPOLLHUP | EPOLLERR)) != 0) {
      finish();
    }
  }
  void flush() override {}
  void onTick() override {
    if (Clock::now() >= until_) {
      finish();  // a request that did not come in time gets no answer
    }
  }

 private:
  void read() {
    char buffer[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        in_.append(buffer, static_cast<size_t>(n));
        if (in_.size() > kMaxHeadBytes) {
          return respond(render({431, "Request Header Fields Too Large",
                                 "text/plain; charset=utf-8",
                                 "the request head is over 8 KiB; a scraper's is far smaller\n",
                                 ""},
                                true));
        }
        size_t end = in_.find("\r\n\r\n");
        if (end == std::string::npos) {
          end = in_.find("\n\n");
        }
        if (end != std::string::npos) {
          return respond(answer(in_.substr(0, end), pages_));
        }
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
      }
      return finish();  // closed before a whole request, or failed
    }
  }
  void respond(std::string reply) {
    out_ = std::move(reply);
    (void)loop_.modify(fd_, EPOLLOUT);
  }
  void write() {
    while (sent_ < out_.size()) {
      ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
      }
      if (n <= 0) {
        return finish();
      }
      sent_ += static_cast<size_t>(n);
    }
    finish();
  }
  void finish() {
    if (!finished_) {
      finished_ = true;
      loop_.remove(fd_);  // drops the loop's reference; the destructor closes the socket
    }
  }

  net::EventLoop& loop_;
  const int fd_;
  const AdminPages& pages_;
  size_t& open_;  // the server's count, touched on the loop thread only
  const Clock::time_point until_;
  std::string in_;
  std::string out_;
  size_t sent_ = 0;
  bool finished_ = false;
};

// Accepts on the admin port's listening socket, on the admin loop.
class AdminAcceptor final : public net::LoopHandler {
 public:
  AdminAcceptor(net::EventLoop& loop, int listenFd, const AdminPages& pages, size_t& open,
                std::chrono::milliseconds deadline)
      : loop_(loop), listenFd_(listenFd), pages_(pages), open_(open), deadline_(deadline) {}

  void onEvents(uint32_t) override {
    for (int i = 0; i < 64; ++i) {
      int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        return;  // none left, or out of descriptors (the next tick tries again)
      }
      if (open_ >= kMaxConnections) {
        std::string busy = render({503, "Service Unavailable", "text/plain; charset=utf-8",
                                   "too many admin connections at once; try again shortly\n", ""},
                                  true);
        (void)!::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        continue;
      }
      auto connection = std::make_shared<AdminConnection>(loop_, fd, pages_, open_, deadline_);
      if (!loop_.add(fd, EPOLLIN | EPOLLRDHUP, connection).isOk()) {
        continue;  // the connection's destructor closes it
      }
    }
  }
  void flush() override {}
  void onTick() override { onEvents(0); }

 private:
  net::EventLoop& loop_;
  const int listenFd_;
  const AdminPages& pages_;
  size_t& open_;  // the server's count (it outlives the loop's handlers)
  const std::chrono::milliseconds deadline_;
};

}  // namespace

struct AdminServer::Impl {
  explicit Impl(AdminPages p) : pages(std::move(p)) {}
  ~Impl() {
    if (loop) {
      loop->stop();
    }
    thread = {};  // joins; the loop drops its connections on the way out
  }
  AdminPages pages;
  size_t openConnections = 0;  // touched on the loop thread only
  std::optional<Poco::Net::ServerSocket> socket;
  std::unique_ptr<net::EventLoop> loop;
  std::jthread thread;
  uint16_t port = 0;
};

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminServer::~AdminServer() = default;

Result<std::unique_ptr<AdminServer>> AdminServer::start(const AdminOptions& options,
                                                        AdminPages pages) {
  auto impl = std::make_unique<Impl>(std::move(pages));
  try {
    impl->socket.emplace(Poco::Net::SocketAddress(options.host, options.port), 64);
    impl->socket->setBlocking(false);
    impl->port = impl->socket->address().port();
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot open the admin port " + options.host + ":" +
                           std::to_string(options.port) + ": " + e.displayText());
  }
  auto loop = net::EventLoop::create();
  if (!loop) {
    return loop.error();
  }
  impl->loop = std::move(loop).value();
  net::EventLoop* l = impl->loop.get();
  int listenFd = impl->socket->impl()->sockfd();
  auto acceptor = std::make_shared<AdminAcceptor>(*l, listenFd, impl->pages,
                                                  impl->openConnections, options.deadline);
  impl->thread = std::jthread([l] {
    setThreadName("chat-admin");
    l->run();
  });
  l->post([l, listenFd, acceptor] { (void)l->add(listenFd, EPOLLIN, acceptor); });
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

uint16_t AdminServer::port() const {
  return impl_->port;
}

}  // namespace chat::admin
