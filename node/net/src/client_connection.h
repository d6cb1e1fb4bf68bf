// ClientConnection: one client socket on an EventLoop. Decodes binary frames or text lines,
// feeds requests to the chat service in order, writes replies and pushes through a bounded
// output buffer, and closes idle or hopelessly slow clients.
//
// Request order: every request is started in arrival order. Sends, acks and pings may
// overlap (they are pipelined); any other request waits until everything before it has been
// answered and holds back the ones after it, so "create then login" sent back to back works.
// In line mode sends pipeline too; since text replies carry no request id, they are written
// in the order the lines came, whatever order their answers arrive in.
//
// Thread contract: everything runs on the loop thread except the ClientSession methods,
// which post to it.
#ifndef CHAT_NET_CLIENT_CONNECTION_H_
#define CHAT_NET_CLIENT_CONNECTION_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <Poco/Net/StreamSocket.h>

#include "chat/common/log_throttle.h"
#include "chat/common/mutex.h"
#include "chat/net/client_listener.h"
#include "chat/net/event_loop.h"
#include "chat/protocol/frame.h"
#include "chat/protocol/line_mode.h"
#include "chat/service/chat_service.h"
#include "chat/tls/stream.h"

namespace chat::net {

// Open connections, in all and by source address, for the listener's caps. Shared by the
// listener and its connections (a connection may outlive the listener).
// Thread contract: thread-safe.
struct ConnectionCounters {
  std::atomic<size_t> open{0};
  // Counts a connection from `address`, or says why it is refused (a cap is reached).
  std::optional<std::string> admit(const std::string& address, const ListenerOptions& options)
      EXCLUDES(mu);
  void release(const std::string& address) EXCLUDES(mu);

  Mutex mu;
  std::unordered_map<std::string, size_t> byAddress GUARDED_BY(mu);
  // Lines about clients that sent garbage or were refused: a flood of them writes a few.
  LogThrottle badClientLog{20, std::chrono::seconds(60)};
};

class ClientConnection final : public LoopHandler,
                               public service::ClientSession,
                               public std::enable_shared_from_this<ClientConnection> {
 public:
  // The connection shares ownership of its loop, options and counters, so that it may
  // outlive the listener (a commit callback can hold the last reference) without dangling.
  // REQUIRES: `service` outlives every connection's use of it, which ends when its loop stops.
  // `address` is the source address the connection was admitted under (counters->admit),
  // released when it ends.
  ClientConnection(std::shared_ptr<EventLoop> loop, Poco::Net::StreamSocket socket,
                   std::string address, service::ChatService& service,
                   std::shared_ptr<const ListenerOptions> options,
                   std::shared_ptr<ConnectionCounters> counters);
  ~ClientConnection() override;
  ClientConnection(const ClientConnection&) = delete;  // owns a socket
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Registers with the loop. REQUIRES: on the loop thread.
  void start();

  // LoopHandler
  void onEvents(uint32_t events) override;
  void flush() override;
  void onTick() override;

  // service::ClientSession (any thread)
  void push(const protocol::Push& push) override;
  void endSession(const std::string& reason) override;
  bool acksMessages() const override { return mode_.load() != Mode::kLine; }
  std::string peerAddress() const override { return peerHost_; }

 private:
  enum class Mode { kUnknown, kBinary, kLine };
  // The connection's life: open; closing (no more requests or pushes, the output is
  // written out, then it closes); closed (the socket is shut, nothing more happens).
  enum class Phase { kOpen, kClosing, kClosed };
  // Binary frames start with the high byte of a length below 16 MiB, so with 0x00; text
  // lines start with a digit.
  static Mode modeOf(uint8_t firstByte) { return firstByte == 0 ? Mode::kBinary : Mode::kLine; }
  // A request waiting its turn, or an error reply already rendered (`ready`), which waits
  // its turn too so that text replies stay in request order.
  struct Pending {
    uint64_t id = 0;
    std::optional<protocol::Request> request;
    std::string ready;
    bool wantsJson = false;
    bool pipelined = false;
    bool closeAfter = false;  // a refusal: close once it is written
  };

  void readAvailable();
  // TLS port: true once the client's first byte says TLS; a client in the clear is told, in
  // its own mode, to use TLS, and closed. False while nothing came yet or when closing.
  bool startTls();
  void onBytes(const uint8_t* data, size_t n);
  void onBinaryBytes(const uint8_t* data, size_t n);
  void onLineBytes(const uint8_t* data, size_t n);
  void onLine(std::string_view line);
  void processPending();
  void onReply(protocol::Response response, bool pipelined, bool wantsJson,
               const protocol::Request& request, uint64_t id);
  // Line mode: writes the reply to line `id` once every earlier line's reply is written.
  void queueLineReply(uint64_t id, std::string text);
  void writeResponse(const protocol::Response& response, bool wantsJson,
                     const protocol::Request& request);
  void append(const void* data, size_t n);
  void appendText(const std::string& text) { append(text.data(), text.size()); }
  void closeAfterFlush();
  // The original protocol's unterminated request, once its bytes stopped arriving.
  void serveUnterminated(uint64_t bytesSeenThen);
  // Tells the client `reason` in its mode (a line, or a session-ended push) and closes.
  void closeWithReason(const std::string& reason);
  void closeIfPeerDone();
  void close(const char* why);
  void updateInterest();
  service::ContextPtr context();

  const std::shared_ptr<EventLoop> loopOwner_;
  EventLoop& loop_;
  Poco::Net::StreamSocket socket_;
  const int fd_;
  service::ChatService& service_;
  const std::shared_ptr<const ListenerOptions> optionsOwner_;
  const ListenerOptions& options_;
  const std::shared_ptr<ConnectionCounters> counters_;
  std::string peer_;
  const std::string peerHost_;  // without the port: what caps and throttles count by

  std::atomic<Mode> mode_{Mode::kUnknown};
  // Owned by the loop thread
  std::unique_ptr<tls::Stream> stream_;  // in the clear, or TLS when the port has it
  bool tlsUndecided_ = false;            // TLS port, first byte not seen yet (see readAvailable)
  bool readWantsWrite_ = false;          // TLS: a read waits for the socket to be writable
  bool writeWantsRead_ = false;          // TLS: a write waits for the socket to be readable
  service::ContextPtr context_;
  protocol::FrameDecoder decoder_;
  std::string lineBuffer_;
  bool discardingLine_ = false;
  // Clients of the original protocol send each request as one write with no newline and
  // wait for the reply. Until a connection has sent a newline, bytes that stop arriving
  // (kUnterminatedGap with nothing more) are served as one request.
  bool sawNewline_ = false;
  uint64_t lineBytesSeen_ = 0;  // tells a quiet gap from more bytes arriving
  uint64_t nextLineId_ = 1;
  uint64_t nextLineReply_ = 1;                  // the line whose reply goes out next
  std::map<uint64_t, std::string> lineReplies_;  // replies waiting for an earlier one
  std::deque<Pending> pending_;
  size_t inFlight_ = 0;
  bool barrier_ = false;     // a non-pipelined request is being handled
  bool processing_ = false;  // processPending() is on the stack (replies can be synchronous)
  std::vector<uint8_t> out_;
  size_t outSent_ = 0;
  bool dirty_ = false;
  Phase phase_ = Phase::kOpen;
  bool readPaused_ = false;
  // The input side, apart from the phase: the client shut down its sending side (finish,
  // then close). A closing connection keeps reading (and ignoring) until then, so that
  // closing with unread bytes does not turn its last reply into a reset.
  bool peerDone_ = false;
  bool wantWrite_ = false;
  std::chrono::steady_clock::time_point lastActivity_;
  std::chrono::steady_clock::time_point lastRequest_;  // the last request handed to the service
};

}  // namespace chat::net

#endif  // CHAT_NET_CLIENT_CONNECTION_H_
