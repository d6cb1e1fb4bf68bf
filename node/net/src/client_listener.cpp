#include "chat/net/client_listener.h"

#include <atomic>
#include <thread>
#include <vector>

#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>

#include "chat/common/process_info.h"
#include "client_connection.h"

namespace chat::net {

namespace {

// Runs on a TCPServer pool thread for an instant: gives the socket to a loop and returns,
// so the pool never holds a thread per client.
class HandOff final : public Poco::Net::TCPServerConnection {
 public:
  HandOff(const Poco::Net::StreamSocket& socket, std::function<void(Poco::Net::StreamSocket)> to)
      : TCPServerConnection(socket), to_(std::move(to)) {}
  void run() override {
    try {
      to_(socket());
    } catch (const std::exception& e) {
      Poco::Logger::get("chat.net").error(std::string("hand-off failed: ") + e.what());
    }
  }

 private:
  std::function<void(Poco::Net::StreamSocket)> to_;
};

class HandOffFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit HandOffFactory(std::function<void(Poco::Net::StreamSocket)> to) : to_(std::move(to)) {}
  // Poco takes ownership of the returned connection and deletes it after run().
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new HandOff(socket, to_);
  }

 private:
  std::function<void(Poco::Net::StreamSocket)> to_;
};

}  // namespace

struct ClientListener::Impl {
  service::ChatService* service = nullptr;
  std::shared_ptr<const ListenerOptions> options;
  std::shared_ptr<ConnectionCounters> counters = std::make_shared<ConnectionCounters>();
  std::vector<std::shared_ptr<EventLoop>> loops;
  std::vector<std::jthread> threads;
  std::atomic<size_t> nextLoop{0};
  std::unique_ptr<Poco::Net::TCPServer> server;
  uint16_t port = 0;

  void accept(Poco::Net::StreamSocket socket) {
    const auto& loop = loops[nextLoop.fetch_add(1) % loops.size()];
    auto connection =
        std::make_shared<ClientConnection>(loop, std::move(socket), *service, options, counters);
    loop->post([connection] { connection->start(); });
  }

  ~Impl() {
    if (server) {
      server->stop();
    }
    for (auto& loop : loops) {
      loop->stop();
    }
    threads.clear();  // joins; each loop closes its connections on the way out
  }
};

ClientListener::ClientListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientListener::~ClientListener() = default;

Result<std::unique_ptr<ClientListener>> ClientListener::start(service::ChatService& service,
                                                              const ListenerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->service = &service;
  impl->options = std::make_shared<const ListenerOptions>(options);
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
  }
  try {
    Poco::Net::SocketAddress address(options.host, options.port);
    Poco::Net::ServerSocket socket(address, 1024);
    impl->port = socket.address().port();
    auto* params = new Poco::Net::TCPServerParams;  // owned by the TCPServer (AutoPtr)
    params->setMaxThreads(2);
    params->setMaxQueued(4096);
    Impl* raw = impl.get();
    impl->server = std::make_unique<Poco::Net::TCPServer>(
        new HandOffFactory([raw](Poco::Net::StreamSocket s) { raw->accept(std::move(s)); }), socket,
        params);
    impl->server->start();
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                           ": " + e.displayText());
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
