// ClientListener: the client port. Every EventLoop watches the one listening socket
// (EPOLLEXCLUSIVE: the kernel wakes one of them per connection) and accepts on its own
// thread, so a flood of connects is spread over the loops instead of queueing behind one
// dispatcher; a ClientConnection then serves the socket for its whole life on that loop, in
// binary or line mode, told apart by the first byte. Connections beyond the caps (in all,
// from one address) are answered with a line saying why and closed at once.
//
// Thread contract: start() and stop() from one controlling thread; counters from any.
#ifndef CHAT_NET_CLIENT_LISTENER_H_
#define CHAT_NET_CLIENT_LISTENER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "chat/common/status.h"
#include "chat/protocol/wire_types.h"

namespace chat::service {
class ChatService;
}
namespace chat::tls {
class TlsContext;
}

namespace chat::net {

struct ListenerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free port; see ClientListener::port()
  int loops = 2;
  std::chrono::seconds idleTimeout{1800};
  // A connection not logged in must complete a request at least this often (a login, or a
  // status probe's next one): one that only trickles bytes or sits silent is closed.
  std::chrono::seconds loginTimeout{60};
  size_t maxConnections = 20000;          // in all; beyond it new ones are refused
  size_t maxConnectionsPerAddress = 256;  // from one source address (0: no cap)
  size_t maxOutputBytes = size_t{8} << 20;  // a client this far behind is disconnected
  // Requests of one connection in the service at once (pipelined sends), and queued behind
  // them: beyond that reading pauses, so a connection holds a bounded amount of the node.
  size_t maxPendingRequests = 256;
  protocol::Limits limits;
  std::shared_ptr<tls::TlsContext> tls;  // set: the port speaks TLS only
};

struct ConnectionCounters;

class ClientListener {
 public:
  // Binds and starts accepting. `service` must outlive the listener.
  // Errors: kIoError (port in use, bad host, ...) with the system's explanation.
  static Result<std::unique_ptr<ClientListener>> start(service::ChatService& service,
                                                       const ListenerOptions& options);
  ~ClientListener();  // stops accepting, closes every connection, joins the loops
  ClientListener(const ClientListener&) = delete;  // owns threads and sockets
  ClientListener& operator=(const ClientListener&) = delete;

  uint16_t port() const;
  size_t connectionCount() const;

 private:
  struct Impl;
  explicit ClientListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::net

#endif  // CHAT_NET_CLIENT_LISTENER_H_
