// Stream: bytes over a connected non-blocking socket, either in the clear (PlainStream) or
// through TLS (TlsStream, tls_stream.h). The node's client connections and the client
// library move their bytes through it, so TLS is one object at connect/accept time and not
// a branch in every read and write.
//
// Thread contract: one thread at a time per stream. A stream never closes its descriptor.
#ifndef CHAT_TLS_STREAM_H_
#define CHAT_TLS_STREAM_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace chat::tls {

struct IoResult {
  enum class Kind {
    kOk,         // `bytes` moved
    kWantRead,   // wait until the socket is readable, then call again
    kWantWrite,  // wait until the socket is writable, then call again
    kClosed,     // the peer closed the connection (orderly)
    kError,      // `error` says what broke; the connection is unusable
  };
  Kind kind = Kind::kOk;
  size_t bytes = 0;
  std::string error;

  static IoResult ok(size_t n) { return {Kind::kOk, n, {}}; }
  static IoResult wantRead() { return {Kind::kWantRead, 0, {}}; }
  static IoResult wantWrite() { return {Kind::kWantWrite, 0, {}}; }
  static IoResult closed() { return {Kind::kClosed, 0, {}}; }
  static IoResult failed(std::string why) { return {Kind::kError, 0, std::move(why)}; }
};

class Stream {
 public:
  virtual ~Stream() = default;
  virtual IoResult read(uint8_t* buffer, size_t size) = 0;
  // After kWantWrite or kWantRead, call again with the same bytes (more may follow them).
  virtual IoResult write(const uint8_t* data, size_t size) = 0;
  // "TLSv1.3 TLS_AES_256_GCM_SHA384" once a TLS handshake is done; "" in the clear.
  virtual std::string describe() const { return ""; }
  // Before closing: TLS says goodbye (close_notify, best effort); nothing in the clear.
  virtual void shutdown() {}
};

class PlainStream final : public Stream {
 public:
  explicit PlainStream(int fd) : fd_(fd) {}
  IoResult read(uint8_t* buffer, size_t size) override;
  IoResult write(const uint8_t* data, size_t size) override;

 private:
  int fd_;
};

}  // namespace chat::tls

#endif  // CHAT_TLS_STREAM_H_
