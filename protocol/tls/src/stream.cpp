#include "chat/tls/stream.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace chat::tls {

IoResult PlainStream::read(uint8_t* buffer, size_t size) {
  for (;;) {
    ssize_t n = ::recv(fd_, buffer, size, 0);
    if (n > 0) {
      return IoResult::ok(static_cast<size_t>(n));
    }
    if (n == 0) {
      return IoResult::closed();
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return IoResult::wantRead();
    }
    return IoResult::failed(std::strerror(errno));
  }
}

IoResult PlainStream::write(const uint8_t* data, size_t size) {
  for (;;) {
    ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      return IoResult::ok(static_cast<size_t>(n));
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return IoResult::wantWrite();
    }
    return IoResult::failed(n < 0 ? std::strerror(errno) : "send returned 0");
  }
}

}  // namespace chat::tls
