#include "chat/admin/admin_server.h"

#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

namespace chat::admin {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

void send(HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
          const std::string& contentType, const std::string& body, bool withBody) {
  response.setStatusAndReason(status);
  response.setContentType(contentType);
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.set("Cache-Control", "no-store");
  std::ostream& out = response.send();
  if (withBody) {
    out << body;
  }
}

class PageHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit PageHandler(const AdminPages& pages) : pages_(pages) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const std::string& method = request.getMethod();
    bool head = method == Poco::Net::HTTPRequest::HTTP_HEAD;
    if (method != Poco::Net::HTTPRequest::HTTP_GET && !head) {
      response.set("Allow", "GET, HEAD");
      return send(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                  "only GET and HEAD are served here; try GET /metrics or GET /health\n", true);
    }
    std::string path;
    try {
      path = Poco::URI(request.getURI()).getPath();
    } catch (const Poco::Exception&) {
      return send(response, HTTPResponse::HTTP_BAD_REQUEST, "text/plain; charset=utf-8",
                  "the request path is not a valid URI; try /metrics or /health\n", true);
    }
    if (path == "/metrics") {
      return send(response, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                  pages_.metrics(), !head);
    }
    if (path == "/health") {
      HealthReport report = pages_.health();
      return send(response,
                  report.healthy ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
                  "application/json", report.json + "\n", !head);
    }
    send(response, HTTPResponse::HTTP_NOT_FOUND, "text/plain; charset=utf-8",
         "no page " + path.substr(0, 200) + " here; the admin port serves /metrics and /health\n",
         !head);
  }

 private:
  const AdminPages& pages_;
};

class PageFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit PageFactory(const AdminPages& pages) : pages_(pages) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new PageHandler(pages_);
  }

 private:
  const AdminPages& pages_;
};

// Poco's HTTP server times out each read, not a request: a client that trickles a header a
// byte at a time holds one of the few threads for as long as it likes. This ends every
// connection a fixed time after it was accepted (registered by the server's connection
// filter, which runs at accept), by shutting its socket down, which makes a blocked read
// return; a connection still queued for a thread then ends at once when it gets one.
class DeadlineWatch final : public Poco::Net::TCPServerConnectionFilter {
 public:
  explicit DeadlineWatch(std::chrono::milliseconds deadline)
      : deadline_(deadline), thread_([this](std::stop_token stop) { run(stop); }) {}
  ~DeadlineWatch() override {
    thread_.request_stop();
    cv_.notify_all();
  }
  DeadlineWatch(const DeadlineWatch&) = delete;  // owns a thread
  DeadlineWatch& operator=(const DeadlineWatch&) = delete;

  // TCPServerConnectionFilter: called by the server's accepting thread for each connection.
  bool accept(const Poco::Net::StreamSocket& socket) override {
    std::lock_guard lock(mu_);
    auto at = entries_.insert(entries_.end(),
                              Entry{socket, std::chrono::steady_clock::now() + deadline_});
    byImpl_[socket.impl()] = at;
    return true;
  }
  // The connection is over.
  void done(const Poco::Net::StreamSocket& socket) {
    std::lock_guard lock(mu_);
    auto it = byImpl_.find(socket.impl());
    if (it != byImpl_.end()) {
      entries_.erase(it->second);
      byImpl_.erase(it);
    }
  }

 private:
  struct Entry {
    Poco::Net::StreamSocket socket;
    std::chrono::steady_clock::time_point until;
    bool shut = false;
  };

  void run(const std::stop_token& stop) {
    // A connection Poco dropped without running it (its queue full) never calls done(): its
    // entry goes this long after its deadline.
    constexpr auto kForget = std::chrono::seconds(10);
    std::unique_lock lock(mu_);
    while (!stop.stop_requested()) {
      auto now = std::chrono::steady_clock::now();
      // In accept order, so in deadline order.
      for (auto it = entries_.begin(); it != entries_.end() && it->until <= now;) {
        if (!it->shut) {
          it->shut = true;
          try {
            it->socket.shutdown();
          } catch (const Poco::Exception&) {
            // closed by the peer already: nothing left to end
          }
        }
        if (now - it->until >= kForget) {
          byImpl_.erase(it->socket.impl());
          it = entries_.erase(it);
        } else {
          ++it;
        }
      }
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }

  const std::chrono::milliseconds deadline_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::list<Entry> entries_;                                                // guarded by mu_
  std::unordered_map<Poco::Net::SocketImpl*, std::list<Entry>::iterator> byImpl_;  // by mu_
  std::jthread thread_;  // last: starts once the rest is built
};

// One HTTP connection under the watch's deadline.
class WatchedConnection final : public Poco::Net::TCPServerConnection {
 public:
  WatchedConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                    Poco::Net::HTTPRequestHandlerFactory::Ptr pages, DeadlineWatch& watch)
      : TCPServerConnection(socket), params_(std::move(params)), pages_(std::move(pages)),
        watch_(watch) {}
  void run() override {
    try {
      Poco::Net::HTTPServerConnection http(socket(), params_, pages_);
      http.run();
    } catch (const Poco::Exception&) {
      // a client that was cut off or sent nonsense: nothing to answer
    }
    watch_.done(socket());
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr pages_;
  DeadlineWatch& watch_;
};

class WatchedConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  WatchedConnectionFactory(Poco::Net::HTTPServerParams::Ptr params,
                           Poco::Net::HTTPRequestHandlerFactory::Ptr pages, DeadlineWatch& watch)
      : params_(std::move(params)), pages_(std::move(pages)), watch_(watch) {}
  // Poco takes ownership of the returned connection and deletes it after run().
  Poco::Net::TCPServerConnection* createConnection(
      const Poco::Net::StreamSocket& socket) override {
    return new WatchedConnection(socket, params_, pages_, watch_);
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr pages_;
  DeadlineWatch& watch_;
};

}  // namespace

struct AdminServer::Impl {
  explicit Impl(AdminPages p) : pages(std::move(p)), threads(1, kThreads), watch(new DeadlineWatch(kDeadline)) {}
  // A scraper and a health check or two at once; each request is over within the deadline,
  // so slow clients delay the others by at most that.
  static constexpr int kThreads = 4;
  static constexpr std::chrono::milliseconds kDeadline{2000};
  AdminPages pages;
  Poco::ThreadPool threads;  // the server's own: Poco's default pool is shared
  Poco::AutoPtr<DeadlineWatch> watch;  // shared with the server, which holds it as its filter
  std::unique_ptr<Poco::Net::TCPServer> server;
  uint16_t port = 0;
};

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminServer::~AdminServer() {
  if (impl_ && impl_->server) {
    impl_->server->stop();
    impl_->threads.joinAll();  // requests in progress end within the deadline
  }
}

Result<std::unique_ptr<AdminServer>> AdminServer::start(const AdminOptions& options,
                                                        AdminPages pages) {
  auto impl = std::make_unique<Impl>(std::move(pages));
  try {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(options.host, options.port), 16);
    impl->port = socket.address().port();
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(Impl::kThreads);
    params->setMaxQueued(16);
    params->setKeepAlive(false);
    params->setTimeout(Poco::Timespan(2, 0));
    params->setServerName("chat-node");
    Poco::Net::HTTPRequestHandlerFactory::Ptr pages = new PageFactory(impl->pages);
    impl->server = std::make_unique<Poco::Net::TCPServer>(
        new WatchedConnectionFactory(params, pages, *impl->watch), impl->threads, socket, params);
    impl->server->setConnectionFilter(impl->watch);
    impl->server->start();
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot open the admin port " + options.host + ":" +
                           std::to_string(options.port) + ": " + e.displayText());
  }
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

uint16_t AdminServer::port() const {
  return impl_->port;
}

}  // namespace chat::admin
