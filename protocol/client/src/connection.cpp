#include "chat/client/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include "chat/tls/tls_stream.h"

#include "chat/common/random.h"

namespace chat::client {

namespace {
// A Connection blocks in the OS (connect, poll) for at most a timeout: real time, not a Clock.
using RealTime = std::chrono::steady_clock;

int remainingMs(RealTime::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - RealTime::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}
}  // namespace

Result<std::unique_ptr<Connection>> Connection::connect(const std::string& hostPort, Millis timeout,
                                                        protocol::Limits limits,
                                                        const tls::TlsContext* tls) {
  auto deadline = RealTime::now() + timeout;
  try {
    Poco::Net::SocketAddress address(hostPort);
    Poco::Net::StreamSocket socket;
    socket.connect(address, Poco::Timespan(timeout.count() * 1000));
    socket.setNoDelay(true);
    socket.setBlocking(false);
    // Take the descriptor out of Poco's handle: this class owns and closes it.
    int fd = ::dup(socket.impl()->sockfd());
    if (fd < 0) {
      return Status::ioError(std::string("dup: ") + std::strerror(errno));
    }
    std::unique_ptr<tls::Stream> stream;
    if (tls != nullptr) {
      auto secure = tls::TlsStream::create(*tls, fd, tls::serverNameOf(hostPort));
      Status handshake = secure ? (*secure)->handshake(deadline) : secure.error();
      if (!handshake.isOk()) {
        ::close(fd);
        return Status(handshake.code(), "TLS with " + hostPort + " failed: " +
                                            handshake.message());
      }
      stream = std::move(secure).value();
    } else {
      stream = std::make_unique<tls::PlainStream>(fd);
    }
    return std::unique_ptr<Connection>(new Connection(fd, std::move(stream), hostPort, limits));
  } catch (const Poco::TimeoutException&) {
    return Status::timeout("connecting to " + hostPort + " timed out");
  } catch (const Poco::Net::NetException& e) {
    return Status::unavailable("cannot connect to " + hostPort + ": " + e.displayText());
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument("cannot connect to " + hostPort + ": " + e.displayText());
  }
}

Connection::Connection(int fd, std::unique_ptr<tls::Stream> stream, std::string address,
                       protocol::Limits limits)
    : fd_(fd),
      stream_(std::move(stream)),
      address_(std::move(address)),
      limits_(limits),
      decoder_(limits.maxFrameBytes * 64),  // replies (history pages) may exceed request limits
      idBase_(Random::entropySeed() & 0xFFFFFFFF00000000ULL) {}

Connection::~Connection() {
  close();
}

void Connection::close() {
  if (fd_ >= 0) {
    stream_->shutdown();
    ::close(fd_);
    fd_ = -1;
  }
}

Status Connection::sendRequest(uint64_t requestId, const protocol::Request& request) {
  if (fd_ < 0) {
    return Status::unavailable("the connection to " + address_ + " is closed");
  }
  protocol::appendRequestFrame(requestId, request, out_);
  return flush(Millis(0));
}

void Connection::queueRequest(uint64_t requestId, const protocol::Request& request) {
  protocol::appendRequestFrame(requestId, request, out_);
}

Status Connection::readAvailable() {
  if (fd_ < 0) {
    return Status::unavailable(lost_.empty() ? "the connection to " + address_ + " is closed"
                                             : lost_);
  }
  uint8_t buffer[64 * 1024];
  bool fed = false;
  for (;;) {
    tls::IoResult r = stream_->read(buffer, sizeof buffer);
    if (r.kind == tls::IoResult::Kind::kOk) {
      if (!heardFromServer_) {
        heardFromServer_ = true;
        // A node that refuses a connection before knowing its mode (too many connections)
        // says why in a line; a frame never starts so (its first byte is 0).
        std::string_view start(reinterpret_cast<const char*>(buffer), r.bytes);
        if (start.starts_with("ERROR ")) {
          std::string_view line = start.substr(0, start.find('\n'));
          if (line.ends_with('\r')) {
            line.remove_suffix(1);
          }
          size_t text = line.find(": ");
          close();
          lost_ = "the server at " + address_ + " refused the connection: " +
                  std::string(text == std::string_view::npos ? line : line.substr(text + 2));
          return Status::unavailable(lost_);
        }
      }
      decoder_.feed({buffer, r.bytes});
      fed = true;
      continue;  // until the socket (and TLS) hold nothing more
    }
    if (r.kind == tls::IoResult::Kind::kWantRead || r.kind == tls::IoResult::Kind::kWantWrite) {
      return Status::ok();
    }
    std::string why = r.kind == tls::IoResult::Kind::kClosed ? "closed by the server" : r.error;
    close();
    lost_ = "the connection to " + address_ + " was lost: " + why;
    // What came before the close (often the reason for it) is read first; the loss is
    // reported by the next read.
    return fed ? Status::ok() : Status::unavailable(lost_);
  }
}

Result<std::optional<protocol::ServerMessage>> Connection::takeBuffered() {
  for (;;) {
    auto frame = decoder_.next();
    if (!frame) {
      if (decoder_.error()) {
        return Status::corruption("bad frame from " + address_ + ": " +
                                  decoder_.error()->message);
      }
      return std::optional<protocol::ServerMessage>();
    }
    auto decoded = protocol::decodeServerFrame(*frame, limits_);
    if (auto* failure = std::get_if<protocol::DecodeFailure>(&decoded)) {
      // A push of a kind this client does not know (a newer server's) is skipped: pushes
      // only inform, and the frame's length keeps the stream in step.
      if (failure->code == protocol::ErrorCode::kUnknownOpcode &&
          frame->opcode >= static_cast<uint16_t>(protocol::Opcode::kPushMessage)) {
        continue;
      }
      return Status::corruption("bad frame from " + address_ + ": " + failure->message);
    }
    return std::optional<protocol::ServerMessage>(
        std::move(std::get<protocol::ServerMessage>(decoded)));
  }
}

Status Connection::sendRaw(const std::string& bytes) {
  out_.insert(out_.end(), bytes.begin(), bytes.end());
  return flush(Millis(1000));
}

Status Connection::flush(Millis timeout) {
  auto deadline = RealTime::now() + timeout;
  while (outSent_ < out_.size()) {
    if (fd_ < 0) {
      return Status::unavailable("the connection to " + address_ + " is closed");
    }
    tls::IoResult r = stream_->write(out_.data() + outSent_, out_.size() - outSent_);
    if (r.kind == tls::IoResult::Kind::kOk) {
      outSent_ += r.bytes;
      continue;
    }
    if (r.kind == tls::IoResult::Kind::kWantWrite || r.kind == tls::IoResult::Kind::kWantRead) {
      int wait = remainingMs(deadline);
      if (wait == 0) {
        return timeout.count() == 0 ? Status::ok() : Status::timeout("write timed out");
      }
      short events = r.kind == tls::IoResult::Kind::kWantWrite ? POLLOUT : POLLIN;
      pollfd p{fd_, events, 0};
      ::poll(&p, 1, wait);
      continue;
    }
    std::string why = r.kind == tls::IoResult::Kind::kClosed ? "closed by the server" : r.error;
    return Status::unavailable("writing to " + address_ + " failed: " + why);
  }
  out_.clear();
  outSent_ = 0;
  return Status::ok();
}

Status Connection::readSome(Millis timeout) {
  pollfd p{fd_, static_cast<short>(POLLIN | (hasQueuedOutput() ? POLLOUT : 0)), 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) {
    return Status::ok();
  }
  if ((p.revents & POLLOUT) != 0) {
    CHAT_RETURN_IF_ERROR(flush(Millis(0)));
  }
  if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
    return Status::ok();
  }
  return readAvailable();
}

Result<std::optional<protocol::ServerMessage>> Connection::receive(Millis timeout) {
  auto deadline = RealTime::now() + timeout;
  bool polled = false;
  for (;;) {
    auto buffered = takeBuffered();
    if (!buffered || buffered->has_value()) {
      return buffered;
    }
    if (fd_ < 0) {
      return Status::unavailable(lost_.empty() ? "the connection to " + address_ + " is closed"
                                               : lost_);
    }
    int wait = remainingMs(deadline);
    if (wait == 0 && polled) {
      return std::optional<protocol::ServerMessage>();
    }
    CHAT_RETURN_IF_ERROR(readSome(Millis(wait)));
    polled = true;
  }
}

Result<protocol::Response> Connection::call(const protocol::Request& request, Millis timeout) {
  uint64_t id = nextRequestId();
  CHAT_RETURN_IF_ERROR(sendRequest(id, request));
  auto deadline = RealTime::now() + timeout;
  for (;;) {
    int wait = remainingMs(deadline);
    auto message = receive(Millis(wait));
    if (!message) {
      return message.error();
    }
    if (!message->has_value()) {
      return Status::timeout(std::string("no reply to ") +
                             protocol::opcodeName(protocol::requestOpcode(request)) + " from " +
                             address_ + " within " + std::to_string(timeout.count()) + " ms");
    }
    if (auto* push = std::get_if<protocol::Push>(&**message)) {
      pushes_.push_back(std::move(*push));
      continue;
    }
    auto& response = std::get<protocol::Response>(**message);
    if (response.requestId == id) {
      return std::move(response);
    }
    if (response.requestId == 0 && !response.isOk()) {
      // About the connection itself (the node closes it next): e.g. the port wants TLS.
      return Status::unavailable(address_ + " refused the connection: " + response.error);
    }
    // A reply to an older request that timed out: not ours, skip it.
  }
}

std::optional<protocol::Push> Connection::takePush() {
  if (pushes_.empty()) {
    return std::nullopt;
  }
  auto p = std::move(pushes_.front());
  pushes_.pop_front();
  return p;
}

Result<std::optional<protocol::Push>> Connection::waitPush(Millis timeout) {
  if (auto p = takePush()) {
    return std::optional<protocol::Push>(std::move(p));
  }
  auto deadline = RealTime::now() + timeout;
  for (;;) {
    auto message = receive(Millis(remainingMs(deadline)));
    if (!message) {
      return message.error();
    }
    if (!message->has_value()) {
      return std::optional<protocol::Push>();
    }
    if (auto* push = std::get_if<protocol::Push>(&**message)) {
      return std::optional<protocol::Push>(std::move(*push));
    }
  }
}

std::optional<protocol::NodeStatus> fetchStatus(const std::string& hostPort,
                                                Millis connectTimeout, Millis replyTimeout,
                                                const tls::TlsContext* tls) {
  auto c = Connection::connect(hostPort, connectTimeout, {}, tls);
  if (!c) {
    return std::nullopt;
  }
  auto r = (*c)->call(protocol::StatusRequest{}, replyTimeout);
  if (!r || !r->isOk()) {
    return std::nullopt;
  }
  return std::get<protocol::StatusReply>(r->body).status;
}

}  // namespace chat::client
