#include "chat/admin/admin_server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
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

}  // namespace

struct AdminServer::Impl {
  explicit Impl(AdminPages p) : pages(std::move(p)), threads(1, 2) {}
  AdminPages pages;
  Poco::ThreadPool threads;  // the server's own: Poco's default pool is shared
  std::unique_ptr<Poco::Net::HTTPServer> server;
  uint16_t port = 0;
};

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminServer::~AdminServer() {
  if (impl_ && impl_->server) {
    impl_->server->stopAll(true);
  }
}

Result<std::unique_ptr<AdminServer>> AdminServer::start(const AdminOptions& options,
                                                        AdminPages pages) {
  auto impl = std::make_unique<Impl>(std::move(pages));
  try {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(options.host, options.port), 16);
    impl->port = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;  // reference-counted by the server
    params->setMaxThreads(2);
    params->setMaxQueued(16);
    params->setKeepAlive(false);
    params->setTimeout(Poco::Timespan(5, 0));
    params->setServerName("chat-node");
    impl->server = std::make_unique<Poco::Net::HTTPServer>(new PageFactory(impl->pages),
                                                           impl->threads, socket, params);
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
