// AdminServer: a node's admin HTTP port (off unless configured): GET /metrics in the
// Prometheus text format and GET /health for load balancers, systemd checks and people.
// The pages come from callbacks, so this holds only the HTTP side: one event loop thread of
// its own reads request heads without a thread per client, answers and closes (no
// keep-alive), and ends every connection `deadline` after its accept however slowly its
// request trickles in, so slow clients cannot keep /health from answering. At most 1,024
// connections at once; beyond that a new one gets 503.
//
// Thread contract: start() and the destructor from one thread; the callbacks run on the
// admin loop's thread and must be thread-safe.
#ifndef CHAT_ADMIN_ADMIN_SERVER_H_
#define CHAT_ADMIN_ADMIN_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "chat/common/status.h"

namespace chat::admin {

struct AdminOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free port; see AdminServer::port()
  std::chrono::milliseconds deadline{2000};  // a connection's whole life, from its accept
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
