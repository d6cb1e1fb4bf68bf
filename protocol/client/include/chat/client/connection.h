// Connection: one binary-protocol (version 3) connection to a chat node, for programs that
// talk to the cluster: tests, chat-bench, chat-tui. It frames requests, assigns request ids
// that are unique across connections (a random base plus a counter, so the cluster's
// per-sender dedupe never confuses two connections), and decodes replies and pushes.
//
// Thread contract: not thread-safe; one thread uses a Connection at a time.
#ifndef CHAT_CLIENT_CONNECTION_H_
#define CHAT_CLIENT_CONNECTION_H_

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "chat/common/status.h"
#include "chat/protocol/frame.h"
#include "chat/protocol/message_codec.h"
#include "chat/tls/stream.h"

namespace chat::tls {
class TlsContext;
}

namespace chat::client {

using Millis = std::chrono::milliseconds;

class Connection {
 public:
  // Connects to "host:port"; with `tls`, through TLS, the server's certificate checked
  // against the context's CA and `host` during connect. Errors: kInvalidArgument (bad
  // address), kUnavailable (refused, unreachable, the certificate did not verify), kTimeout.
  static Result<std::unique_ptr<Connection>> connect(const std::string& hostPort, Millis timeout,
                                                     protocol::Limits limits = {},
                                                     const tls::TlsContext* tls = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;  // owns a socket
  Connection& operator=(const Connection&) = delete;

  // A fresh request id for this connection.
  uint64_t nextRequestId() { return idBase_ + ++idCounter_; }
  // Queues `request` under `requestId` and writes what the socket takes without blocking;
  // call flush() or receive() to write the rest.
  Status sendRequest(uint64_t requestId, const protocol::Request& request);
  // Queues `request` without writing; flush() writes everything queued in one go.
  void queueRequest(uint64_t requestId, const protocol::Request& request);
  // Reads whatever the socket holds now without blocking. kUnavailable when closed.
  Status readAvailable();
  // The next fully buffered reply or push, without any I/O; nullopt when none is buffered.
  Result<std::optional<protocol::ServerMessage>> takeBuffered();
  // Writes queued bytes, waiting at most `timeout`. kTimeout when bytes remain.
  Status flush(Millis timeout);
  // The next reply or push, waiting at most `timeout` (nullopt on timeout). Errors:
  // kUnavailable when the server closed the connection, kCorruption on a bad frame.
  Result<std::optional<protocol::ServerMessage>> receive(Millis timeout);
  // Sends `request` and waits for its reply; pushes read meanwhile are kept for takePush().
  Result<protocol::Response> call(const protocol::Request& request, Millis timeout);
  // A push kept by call(), oldest first.
  std::optional<protocol::Push> takePush();
  // Waits for the next push (from the kept ones first); replies read meanwhile are dropped.
  Result<std::optional<protocol::Push>> waitPush(Millis timeout);

  // Raw bytes, for tests of hostile input.
  Status sendRaw(const std::string& bytes);
  int fd() const { return fd_; }
  bool hasQueuedOutput() const { return outSent_ < out_.size(); }
  const std::string& address() const { return address_; }

 private:
  Connection(int fd, std::unique_ptr<tls::Stream> stream, std::string address,
             protocol::Limits limits);
  Status readSome(Millis timeout);
  void close();

  int fd_;
  std::unique_ptr<tls::Stream> stream_;  // over fd_: in the clear or TLS
  std::string address_;
  std::string lost_;  // why the server side closed, once it did
  bool heardFromServer_ = false;  // a refusal line can only be the first thing it sends
  protocol::Limits limits_;
  protocol::FrameDecoder decoder_;
  std::vector<uint8_t> out_;
  size_t outSent_ = 0;
  std::deque<protocol::Push> pushes_;
  uint64_t idBase_;
  uint64_t idCounter_ = 0;
};

// Asks the node at `hostPort` for its status on a connection of its own (for tools that
// watch a cluster: chat-supervisor, chat-bench), through TLS when `tls` is given. nullopt
// when it does not answer in time.
std::optional<protocol::NodeStatus> fetchStatus(const std::string& hostPort,
                                                Millis connectTimeout, Millis replyTimeout,
                                                const tls::TlsContext* tls = nullptr);

}  // namespace chat::client

#endif  // CHAT_CLIENT_CONNECTION_H_
