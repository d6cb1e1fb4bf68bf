#include "chat/net/client_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocketImpl.h>

#include "chat/common/process_info.h"
#include "client_connection.h"

namespace chat::net {

namespace {

// The address of a peer without its port, as Poco prints it (what caps count by).
std::string hostOf(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
  }
  return text;
}

// Says why a connection is refused, in a line (its mode is not known yet: line clients show
// it as it is, and the binary client library recognises a line starting "ERROR"), then
// closes it. Never blocks: the line fits any socket buffer, and a peer that cannot take it
// just misses it.
void refuse(int fd, const std::string& why) {
  std::string line = protocol::formatLineError(protocol::ErrorCode::kUnavailable, why);
  (void)!::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

}  // namespace

// Watches the listening socket on one loop and accepts on it. Every loop has one; the kernel
// wakes one of them per incoming connection (EPOLLEXCLUSIVE).
class Acceptor final : public LoopHandler {
 public:
  Acceptor(std::shared_ptr<EventLoop> loop, int listenFd, service::ChatService& service,
           std::shared_ptr<const ListenerOptions> options,
           std::shared_ptr<ConnectionCounters> counters)
      : loop_(std::move(loop)),
        listenFd_(listenFd),
        service_(service),
        options_(std::move(options)),
        counters_(std::move(counters)),
        spareFd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}
  ~Acceptor() override {
    if (spareFd_ >= 0) {
      ::close(spareFd_);
    }
  }
  Acceptor(const Acceptor&) = delete;  // owns a file descriptor
  Acceptor& operator=(const Acceptor&) = delete;

  void onEvents(uint32_t) override {
    // A bounded batch per wake-up, so one loop's clients are not kept waiting by a flood.
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage address{};
      socklen_t length = sizeof address;
      int fd = ::accept4(listenFd_, reinterpret_cast<sockaddr*>(&address), &length,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          shedOneConnection();
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                   errno != ECONNABORTED) {
          Poco::Logger::get("chat.net").warning(std::string("accept failed: ") +
                                                std::strerror(errno));
        }
        return;
      }
      std::string host = hostOf(address);
      if (auto why = counters_->admit(host, *options_)) {
        refuse(fd, *why);
        if (auto more = counters_->badClientLog.admit(std::chrono::steady_clock::now())) {
          Poco::Logger::get("chat.net").information("refused a connection from " + host + ": " +
                                                    *why + *more);
        }
        continue;
      }
      try {
        Poco::Net::StreamSocket socket(new Poco::Net::StreamSocketImpl(fd));
        auto connection = std::make_shared<ClientConnection>(loop_, std::move(socket), host,
                                                             service_, options_, counters_);
        connection->start();
      } catch (const std::exception& e) {
        Poco::Logger::get("chat.net").error(std::string("cannot serve a new connection: ") +
                                            e.what());
      }
    }
  }
  void flush() override {}
  void onTick() override {}

 private:
  // Out of file descriptors: the connection stays in the backlog and the socket keeps
  // reporting it, which would spin the loop. Give up the spare descriptor, take the
  // connection, tell it why and close it, then take the spare again.
  void shedOneConnection() {
    if (spareFd_ >= 0) {
      ::close(spareFd_);
      spareFd_ = -1;
    }
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      refuse(fd, "the server is out of file descriptors; try again later");
    }
    spareFd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    Poco::Logger::get("chat.net").warning(
        "out of file descriptors: a new connection was refused (raise the open-file limit or "
        "lower max-connections)");
  }

  const std::shared_ptr<EventLoop> loop_;
  const int listenFd_;
  service::ChatService& service_;
  const std::shared_ptr<const ListenerOptions> options_;
  const std::shared_ptr<ConnectionCounters> counters_;
  int spareFd_;
};

struct ClientListener::Impl {
  std::shared_ptr<const ListenerOptions> options;
  std::shared_ptr<ConnectionCounters> counters = std::make_shared<ConnectionCounters>();
  std::vector<std::shared_ptr<EventLoop>> loops;
  std::vector<std::jthread> threads;
  std::optional<Poco::Net::ServerSocket> socket;
  uint16_t port = 0;

  ~Impl() {
    for (auto& loop : loops) {
      loop->stop();
    }
    threads.clear();  // joins; each loop closes its connections (and acceptor) on the way out
    if (socket) {
      socket->close();
    }
  }
};

ClientListener::ClientListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientListener::~ClientListener() = default;

Result<std::unique_ptr<ClientListener>> ClientListener::start(service::ChatService& service,
                                                              const ListenerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::make_shared<const ListenerOptions>(options);
  try {
    impl->socket.emplace(Poco::Net::SocketAddress(options.host, options.port), 1024);
    impl->socket->setBlocking(false);
    impl->port = impl->socket->address().port();
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                           ": " + e.displayText());
  }
  int listenFd = impl->socket->impl()->sockfd();
  for (int i = 0; i < std::max(options.loops, 1); ++i) {
    auto loop = EventLoop::create();
    if (!loop) {
      return loop.error();
    }
    impl->loops.push_back(std::move(loop).value());
  }
  for (auto& loop : impl->loops) {
    EventLoop* l = loop.get();
    impl->threads.emplace_back([l] {
      setThreadName("chat-loop");
      l->run();
    });
    auto acceptor =
        std::make_shared<Acceptor>(loop, listenFd, service, impl->options, impl->counters);
    loop->post([l, listenFd, acceptor] {
      if (Status s = l->add(listenFd, EPOLLIN | EPOLLEXCLUSIVE, acceptor); !s.isOk()) {
        Poco::Logger::get("chat.net").error("a loop cannot accept connections: " + s.message());
      }
    });
  }
  return std::unique_ptr<ClientListener>(new ClientListener(std::move(impl)));
}

uint16_t ClientListener::port() const {
  return impl_->port;
}

size_t ClientListener::connectionCount() const {
  return impl_->counters->open.load();
}

}  // namespace chat::net
