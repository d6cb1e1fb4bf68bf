// AdminServer: a node's admin HTTP port (off unless configured): GET /metrics in the
// Prometheus text format and GET /health for load balancers, systemd checks and people.
// The pages come from callbacks, so this holds only the HTTP side (Poco's HTTPServer with
// four threads, no keep-alive, every request over within 2 s of its connection: a scraper,
// not a public site; a client that trickles its request is cut off at the deadline).
//
// Thread contract: start() and the destructor from one thread; the callbacks run on the
// server's threads, possibly two at once, and must be thread-safe.
#ifndef CHAT_ADMIN_ADMIN_SERVER_H_
#define CHAT_ADMIN_ADMIN_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "chat/common/status.h"

namespace chat::admin {

struct AdminOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free port; see AdminServer::port()
};

// What /health answers: 200 when healthy, 503 otherwise, with a JSON body either way.
struct HealthReport {
  bool healthy = false;
  std::string json;
};

struct AdminPages {
  std::function<std::string()> metrics;  // Prometheus text exposition
  std::function<HealthReport()> health;
};

class AdminServer {
 public:
  // Errors: kIoError (port in use, bad host) with the system's explanation.
  static Result<std::unique_ptr<AdminServer>> start(const AdminOptions& options,
                                                    AdminPages pages);
  ~AdminServer();  // stops accepting and waits for requests in progress
  AdminServer(const AdminServer&) = delete;  // owns a server and its threads
  AdminServer& operator=(const AdminServer&) = delete;

  uint16_t port() const;

 private:
  struct Impl;
  explicit AdminServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::admin

#endif  // CHAT_ADMIN_ADMIN_SERVER_H_
