#include "client_connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <Poco/Logger.h>

#include "chat/protocol/message_codec.h"
#include "chat/tls/tls_stream.h"

namespace chat::net {

namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("chat.net");
}

bool isPipelined(const protocol::Request& r) {
  return std::holds_alternative<protocol::SendRequest>(r) ||
         std::holds_alternative<protocol::AckRequest>(r) ||
         std::holds_alternative<protocol::PingRequest>(r);
}

}  // namespace

std::optional<std::string> ConnectionCounters::admit(const std::string& address,
                                                      const ListenerOptions& options) {
  MutexLock lock(mu);
  if (open.load() >= options.maxConnections) {
    return "the server has " + std::to_string(options.maxConnections) +
           " connections, the most it takes; try again later";
  }
  size_t& mine = byAddress[address];
  if (options.maxConnectionsPerAddress != 0 && mine >= options.maxConnectionsPerAddress) {
    return "your address " + address + " has " + std::to_string(mine) +
           " connections open, the most one address may; close some and try again";
  }
  ++mine;
  open.fetch_add(1);
  return std::nullopt;
}

void ConnectionCounters::release(const std::string& address) {
  MutexLock lock(mu);
  auto it = byAddress.find(address);
  if (it != byAddress.end() && --it->second == 0) {
    byAddress.erase(it);
  }
  open.fetch_sub(1);
}

ClientConnection::ClientConnection(std::shared_ptr<EventLoop> loop, Poco::Net::StreamSocket socket,
                                   std::string address, service::ChatService& service,
                                   std::shared_ptr<const ListenerOptions> options,
                                   std::shared_ptr<ConnectionCounters> counters)
    : loopOwner_(std::move(loop)),
      loop_(*loopOwner_),
      socket_(std::move(socket)),
      fd_(socket_.impl()->sockfd()),
      service_(service),
      optionsOwner_(std::move(options)),
      options_(*optionsOwner_),
      counters_(std::move(counters)),
      peerHost_(std::move(address)),
      decoder_(options_.limits.maxFrameBytes),
      lastActivity_(std::chrono::steady_clock::now()),
      lastRequest_(lastActivity_) {
  try {
    peer_ = socket_.peerAddress().toString();
  } catch (const Poco::Exception& e) {
    peer_ = "unknown peer (" + e.displayText() + ")";
  }
}

ClientConnection::~ClientConnection() {
  counters_->release(peerHost_);
}

void ClientConnection::start() {
  try {
    socket_.setBlocking(false);
    socket_.setNoDelay(true);
  } catch (const Poco::Exception& e) {
    logger().warning("cannot configure the socket of " + peer_ + ": " + e.displayText());
    phase_ = Phase::kClosed;
    return;
  }
  // On a TLS port the TLS session starts once the first byte shows the client speaks TLS.
  stream_ = std::make_unique<tls::PlainStream>(fd_);
  tlsUndecided_ = options_.tls != nullptr;
  Status s = loop_.add(fd_, EPOLLIN | EPOLLRDHUP, shared_from_this());
  if (!s.isOk()) {
    logger().warning("cannot watch " + peer_ + ": " + s.message());
    phase_ = Phase::kClosed;
  }
}

service::ContextPtr ClientConnection::context() {
  if (!context_) {
    context_ = service_.attach(shared_from_this());
  }
  return context_;
}

void ClientConnection::onEvents(uint32_t events) {
  if (phase_ == Phase::kClosed) {
    return;
  }
  if ((events & (EPOLLHUP | EPOLLERR)) != 0 && peerDone_) {
    close("connection reset");
    return;
  }
  bool readable = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  bool writable = (events & EPOLLOUT) != 0;
  if (((readable && !readWantsWrite_) || (writable && readWantsWrite_)) && !readPaused_ &&
      !peerDone_) {
    readAvailable();
  } else if ((events & (EPOLLHUP | EPOLLERR)) != 0) {
    close("connection reset");
    return;
  }
  if (phase_ != Phase::kClosed && (writable || (readable && writeWantsRead_))) {
    flush();
  }
}

bool ClientConnection::startTls() {
  uint8_t first = 0;
  ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK);
  if (n == 0) {
    close("closed before saying anything");
    return false;
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      close(std::strerror(errno));
    }
    return false;
  }
  tlsUndecided_ = false;
  constexpr uint8_t kTlsHandshakeRecord = 0x16;
  if (first != kTlsHandshakeRecord) {
    const std::string why =
        "this port speaks TLS only; connect with TLS (chat-tui or chat-bench --tls-ca FILE, "
        "or openssl s_client -connect HOST:PORT for line mode)";
    logger().information("refused " + peer_ + ": a client in the clear on the TLS port");
    // Answered in the client's own mode, as any refusal is.
    mode_.store(modeOf(first));
    writeResponse(protocol::Response::failure(0, protocol::Opcode::kHelp,
                                              protocol::ErrorCode::kNotSupported, why),
                  false, protocol::Request{});
    // Take in what it sent, so that closing does not reset the connection (and discard
    // the answer) for unread input.
    uint8_t scratch[4096];
    for (int i = 0; i < 16 && ::recv(fd_, scratch, sizeof scratch, 0) > 0; ++i) {
    }
    closeAfterFlush();
    return false;
  }
  auto tls = tls::TlsStream::create(*options_.tls, fd_);
  if (!tls) {
    logger().warning("cannot start TLS with " + peer_ + ": " + tls.error().message());
    close("TLS could not start");
    return false;
  }
  stream_ = std::move(tls).value();
  return true;
}

void ClientConnection::readAvailable() {
  if (tlsUndecided_ && !startTls()) {
    return;
  }
  uint8_t buffer[64 * 1024];
  bool wantedWrite = readWantsWrite_;
  readWantsWrite_ = false;
  // Bounded reads per wakeup keep one busy client from starving the loop's others. (A TLS
  // read returns one record at most; the loop's level-triggered wakeups bring the rest.)
  for (int round = 0; round < 8 && phase_ != Phase::kClosed && !readPaused_; ++round) {
    tls::IoResult r = stream_->read(buffer, sizeof buffer);
    if (r.kind == tls::IoResult::Kind::kOk) {
      lastActivity_ = std::chrono::steady_clock::now();
      onBytes(buffer, r.bytes);
      if (r.bytes < sizeof buffer) {
        break;
      }
      continue;
    }
    if (r.kind == tls::IoResult::Kind::kClosed) {
      // A half-close (nc at the end of its input): answer what was asked, then close. A last
      // line without its newline is still a request.
      peerDone_ = true;
      if (mode_.load() == Mode::kLine && !lineBuffer_.empty() && !discardingLine_) {
        std::string last = std::move(lineBuffer_);
        lineBuffer_.clear();
        onLine(last);
        processPending();
      }
      updateInterest();
      closeIfPeerDone();
      return;
    }
    if (r.kind == tls::IoResult::Kind::kWantWrite) {
      readWantsWrite_ = true;  // a TLS handshake or key update must send first
      break;
    }
    if (r.kind == tls::IoResult::Kind::kWantRead) {
      break;
    }
    close(r.error.c_str());
    return;
  }
  if (phase_ != Phase::kClosed && wantedWrite != readWantsWrite_) {
    updateInterest();
  }
}

void ClientConnection::onBytes(const uint8_t* data, size_t n) {
  if (phase_ != Phase::kOpen) {
    return;  // a refused connection: ignore whatever else it sends
  }
  if (mode_.load() == Mode::kUnknown) {
    mode_.store(modeOf(data[0]));
  }
  if (mode_.load() == Mode::kBinary) {
    onBinaryBytes(data, n);
  } else {
    onLineBytes(data, n);
  }
  processPending();
}

void ClientConnection::onBinaryBytes(const uint8_t* data, size_t n) {
  decoder_.feed({data, n});
  while (auto frame = decoder_.next()) {
    auto decoded = protocol::decodeRequest(*frame, options_.limits);
    Pending p;
    p.id = frame->requestId;
    if (auto* failure = std::get_if<protocol::DecodeFailure>(&decoded)) {
      // A well-framed but bad request gets an error reply; the stream stays usable.
      std::vector<uint8_t> bytes;
      protocol::appendResponseFrame(
          protocol::Response::failure(frame->requestId,
                                      static_cast<protocol::Opcode>(frame->opcode), failure->code,
                                      failure->message),
          bytes);
      p.ready.assign(bytes.begin(), bytes.end());
      p.pipelined = true;  // carries its request id, so it need not wait for others
    } else {
      p.request = std::move(std::get<protocol::Request>(decoded));
      p.pipelined = isPipelined(*p.request);
    }
    pending_.push_back(std::move(p));
  }
  if (const auto& error = decoder_.error()) {
    // The byte stream cannot be resynchronized: say why and close once that is written.
    processPending();
    writeResponse(protocol::Response::failure(0, protocol::Opcode::kHelp, error->code,
                                              error->message + "; closing the connection"),
                  false, protocol::Request{});
    if (auto more = counters_->badClientLog.admit(std::chrono::steady_clock::now())) {
      logger().information("closing " + peer_ + ": " + error->message + *more);
    }
    closeAfterFlush();
  }
}

namespace {
// How long the bytes of one write may pause before an unterminated request is served: far
// longer than the gap between the segments of one write, far shorter than a reply's wait.
constexpr std::chrono::milliseconds kUnterminatedGap{30};
}  // namespace

void ClientConnection::onLineBytes(const uint8_t* data, size_t n) {
  std::string_view chunk(reinterpret_cast<const char*>(data), n);
  lineBytesSeen_ += n;
  if (!sawNewline_ && chunk.find('\n') != std::string_view::npos) {
    sawNewline_ = true;  // a line client (nc, telnet): lines end with newlines from now on
  }
  const size_t limit = options_.limits.maxLineBytes;
  auto tooLong = [&] {
    Pending p;
    p.id = nextLineId_++;
    p.ready = protocol::formatLineError(
        protocol::ErrorCode::kTooLarge,
        "line longer than " + std::to_string(limit) + " bytes; it was discarded");
    pending_.push_back(std::move(p));
  };
  while (!chunk.empty() && phase_ == Phase::kOpen) {
    size_t eol = chunk.find('\n');
    if (eol == std::string_view::npos) {
      if (!discardingLine_) {
        lineBuffer_.append(chunk);
        if (lineBuffer_.size() > limit) {
          tooLong();
          lineBuffer_.clear();
          discardingLine_ = true;
        } else if (!sawNewline_) {
          std::weak_ptr<ClientConnection> weak = shared_from_this();
          loop_.runAfter(kUnterminatedGap, [weak, seen = lineBytesSeen_] {
            if (auto self = weak.lock()) {
              self->serveUnterminated(seen);
            }
          });
        }
      }
      return;
    }
    if (discardingLine_) {
      discardingLine_ = false;
    } else {
      lineBuffer_.append(chunk.substr(0, eol));
      if (lineBuffer_.size() > limit) {
        tooLong();
      } else {
        onLine(lineBuffer_);
      }
      lineBuffer_.clear();
    }
    chunk.remove_prefix(eol + 1);
  }
}

void ClientConnection::serveUnterminated(uint64_t bytesSeenThen) {
  if (phase_ != Phase::kOpen || sawNewline_ || lineBytesSeen_ != bytesSeenThen ||
      lineBuffer_.empty()) {
    return;  // more bytes came (a later timer decides), or a newline did
  }
  std::string request = std::move(lineBuffer_);
  lineBuffer_.clear();
  onLine(request);
  processPending();
}

void ClientConnection::onLine(std::string_view line) {
  auto parsed = protocol::parseLine(line);
  if (!parsed) {
    return;
  }
  Pending p;
  p.id = nextLineId_++;
  if (auto* error = std::get_if<protocol::LineError>(&*parsed)) {
    p.closeAfter = error->closeConnection;
    p.ready = protocol::formatLineError(error->code, error->message);
  } else {
    auto& request = std::get<protocol::LineRequest>(*parsed);
    p.request = std::move(request.request);
    p.wantsJson = request.wantsJson;
    // Sends pipeline as in binary mode (a client may type or paste many); their replies
    // still go out in request order (queueLineReply).
    p.pipelined = std::holds_alternative<protocol::SendRequest>(*p.request);
  }
  pending_.push_back(std::move(p));
}

void ClientConnection::processPending() {
  if (processing_) {
    return;  // the outer call continues the loop
  }
  processing_ = true;
  while (!pending_.empty() && phase_ == Phase::kOpen) {
    Pending& next = pending_.front();
    // Sends pipeline, but no more than maxPendingRequests of them are in the service at
    // once: beyond that they wait here, and once this queue is full too, reading stops.
    if (barrier_ || (!next.pipelined && inFlight_ > 0) ||
        inFlight_ >= options_.maxPendingRequests) {
      break;
    }
    Pending p = std::move(next);
    pending_.pop_front();
    if (!p.request) {
      if (mode_.load() == Mode::kLine) {
        queueLineReply(p.id, std::move(p.ready));
      } else {
        append(p.ready.data(), p.ready.size());
      }
      if (p.closeAfter) {
        closeAfterFlush();
      }
      continue;
    }
    ++inFlight_;
    lastRequest_ = std::chrono::steady_clock::now();
    if (!p.pipelined) {
      barrier_ = true;
    }
    auto self = shared_from_this();
    auto request = std::make_shared<protocol::Request>(std::move(*p.request));
    service_.handle(context(), p.id, *request,
                    [self, request, pipelined = p.pipelined, wantsJson = p.wantsJson,
                     id = p.id](protocol::Response response) {
                      self->loop_.runInLoop([self, request, pipelined, wantsJson, id,
                                             response = std::move(response)]() mutable {
                        self->onReply(std::move(response), pipelined, wantsJson, *request, id);
                      });
                    });
  }
  processing_ = false;
  // Backpressure: stop reading while too many requests wait; resume when they drain.
  bool shouldPause = pending_.size() >= options_.maxPendingRequests;
  if (shouldPause != readPaused_ && phase_ != Phase::kClosed) {
    readPaused_ = shouldPause;
    updateInterest();  // level-triggered: bytes that arrived while paused are reported again
  }
}

void ClientConnection::onReply(protocol::Response response, bool pipelined, bool wantsJson,
                               const protocol::Request& request, uint64_t id) {
  --inFlight_;
  if (!pipelined) {
    barrier_ = false;
  }
  if (phase_ == Phase::kClosed) {
    return;
  }
  if (mode_.load() == Mode::kLine) {
    queueLineReply(id, protocol::formatLineReply(protocol::LineRequest{request, wantsJson},
                                                 response));
  } else {
    writeResponse(response, wantsJson, request);
  }
  processPending();
  closeIfPeerDone();
}

void ClientConnection::closeIfPeerDone() {
  if (peerDone_ && phase_ == Phase::kOpen && pending_.empty() && inFlight_ == 0) {
    closeAfterFlush();
  }
}

void ClientConnection::queueLineReply(uint64_t id, std::string text) {
  // Text replies carry no request id: they leave in the order the lines came, whatever
  // order their answers arrive in.
  lineReplies_.emplace(id, std::move(text));
  while (!lineReplies_.empty() && lineReplies_.begin()->first == nextLineReply_) {
    appendText(lineReplies_.begin()->second);
    lineReplies_.erase(lineReplies_.begin());
    ++nextLineReply_;
  }
}

void ClientConnection::writeResponse(const protocol::Response& response, bool wantsJson,
                                     const protocol::Request& request) {
  if (mode_.load() == Mode::kLine) {
    appendText(protocol::formatLineReply(protocol::LineRequest{request, wantsJson}, response));
    return;
  }
  protocol::appendResponseFrame(response, out_);
  append(nullptr, 0);
}

void ClientConnection::append(const void* data, size_t n) {
  if (phase_ == Phase::kClosed) {
    return;
  }
  if (n > 0) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    out_.insert(out_.end(), bytes, bytes + n);
  }
  if (out_.size() - outSent_ > options_.maxOutputBytes) {
    // The client reads slower than it is sent to: drop it rather than grow without bound.
    // Unacked messages stay waiting in the store and are handed over after a reconnect.
    logger().warning("closing " + peer_ + ": more than " + std::to_string(options_.maxOutputBytes) +
                     " bytes of output backed up");
    close("output buffer full");
    return;
  }
  if (!dirty_) {
    dirty_ = true;
    loop_.markDirty(shared_from_this());
  }
}

void ClientConnection::flush() {
  dirty_ = false;
  if (phase_ == Phase::kClosed) {
    return;
  }
  bool wantedRead = writeWantsRead_;
  writeWantsRead_ = false;
  while (outSent_ < out_.size()) {
    tls::IoResult r = stream_->write(out_.data() + outSent_, out_.size() - outSent_);
    if (r.kind == tls::IoResult::Kind::kOk) {
      outSent_ += r.bytes;
      continue;
    }
    if (r.kind == tls::IoResult::Kind::kWantWrite) {
      break;
    }
    if (r.kind == tls::IoResult::Kind::kWantRead) {
      writeWantsRead_ = true;  // TLS must hear from the peer before it can send more
      break;
    }
    close(r.kind == tls::IoResult::Kind::kClosed ? "connection reset" : r.error.c_str());
    return;
  }
  if (wantedRead != writeWantsRead_) {
    updateInterest();
  }
  if (outSent_ == out_.size()) {
    out_.clear();
    outSent_ = 0;
    if (phase_ != Phase::kOpen) {
      close("closed by server");
      return;
    }
  } else if (outSent_ > (size_t{64} << 10) && outSent_ * 2 > out_.size()) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(outSent_));
    outSent_ = 0;
  }
  bool needWrite = outSent_ < out_.size();
  if (needWrite != wantWrite_) {
    wantWrite_ = needWrite;
    updateInterest();
  }
}

void ClientConnection::updateInterest() {
  uint32_t events = 0;
  if ((!readPaused_ && !peerDone_) || writeWantsRead_) {
    events |= EPOLLIN | EPOLLRDHUP;
  }
  if (wantWrite_ || readWantsWrite_) {
    events |= EPOLLOUT;
  }
  (void)loop_.modify(fd_, events);
}

void ClientConnection::onTick() {
  if (phase_ != Phase::kOpen) {
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (now - lastActivity_ > options_.idleTimeout) {
    return closeWithReason("idle for too long; connection closed");
  }
  // Before a login, bytes alone do not keep a connection: it must finish requests.
  if (now - lastRequest_ > options_.loginTimeout &&
      (!context_ || !service_.isLoggedIn(context_))) {
    closeWithReason("not logged in and no request for " +
                    std::to_string(options_.loginTimeout.count()) +
                    " s; connection closed (log in soon after connecting)");
  }
}

void ClientConnection::closeWithReason(const std::string& reason) {
  if (mode_.load() == Mode::kLine) {
    appendText(protocol::formatLineError(protocol::ErrorCode::kUnavailable, reason));
  } else if (mode_.load() == Mode::kBinary) {
    std::vector<uint8_t> bytes;
    protocol::appendPushFrame(protocol::SessionEndedPush{reason}, bytes);
    append(bytes.data(), bytes.size());
  }
  closeAfterFlush();
  flush();
}

void ClientConnection::push(const protocol::Push& push) {
  auto self = shared_from_this();
  loop_.runInLoop([self, push] {
    if (self->phase_ != Phase::kOpen) {
      return;
    }
    if (self->mode_.load() == Mode::kLine) {
      std::string text = protocol::formatLinePush(push);
      if (!text.empty()) {
        self->appendText(text);
      }
      return;
    }
    protocol::appendPushFrame(push, self->out_);
    self->append(nullptr, 0);
  });
}

void ClientConnection::endSession(const std::string& reason) {
  auto self = shared_from_this();
  loop_.runInLoop([self, reason] {
    if (self->phase_ == Phase::kClosed) {
      return;
    }
    if (self->mode_.load() == Mode::kLine) {
      self->appendText(protocol::formatLineError(protocol::ErrorCode::kAccountBusy, reason));
    } else {
      std::vector<uint8_t> bytes;
      protocol::appendPushFrame(protocol::SessionEndedPush{reason}, bytes);
      self->append(bytes.data(), bytes.size());
    }
    self->closeAfterFlush();
  });
}

void ClientConnection::closeAfterFlush() {
  if (phase_ == Phase::kOpen) {
    phase_ = Phase::kClosing;
  }
  pending_.clear();
  if (!dirty_) {
    dirty_ = true;
    loop_.markDirty(shared_from_this());
  }
}

void ClientConnection::close(const char* why) {
  if (phase_ == Phase::kClosed) {
    return;
  }
  phase_ = Phase::kClosed;
  logger().debug("connection " + peer_ + " closed: " + why);
  pending_.clear();
  if (stream_) {
    stream_->shutdown();
  }
  loop_.remove(fd_);
  if (context_) {
    service_.detach(context_);
  }
  try {
    socket_.close();
  } catch (const Poco::Exception& e) {
    logger().debug("closing " + peer_ + ": " + e.displayText());
  }
}

}  // namespace chat::net
