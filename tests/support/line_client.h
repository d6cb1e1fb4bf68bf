// LineClient: a text-mode (nc-style) client for integration tests: writes raw lines and
// reads until an expected ending arrives or a timeout passes.
#ifndef CHAT_TESTS_SUPPORT_LINE_CLIENT_H_
#define CHAT_TESTS_SUPPORT_LINE_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace chat::testing {

class LineClient {
 public:
  explicit LineClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~LineClient() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  LineClient(const LineClient&) = delete;  // owns a socket
  LineClient& operator=(const LineClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Ends the sending side (what nc does at the end of its input); replies still arrive.
  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  void write(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      sent += static_cast<size_t>(n);
    }
  }
  // Reads until the buffered text contains `ending` (returns everything up to and including
  // it) or `timeout` passes or the server closes (returns what arrived).
  std::string readUntil(const std::string& ending,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t at = buffer_.find(ending);
      if (at != std::string::npos) {
        std::string out = buffer_.substr(0, at + ending.size());
        buffer_.erase(0, at + ending.size());
        return out;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0 || closed_) {
        std::string out;
        out.swap(buffer_);
        return out;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) {
        continue;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        closed_ = true;
        continue;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  // One request line and its first reply line.
  std::string request(const std::string& line) {
    write(line + "\n");
    return readUntil("\r\n");
  }
  // True once the server closed the connection, waiting up to `within` for it.
  bool closedByServer(std::chrono::milliseconds within = std::chrono::milliseconds(2000)) {
    readUntil("\x01never", within);
    return closed_;
  }

 private:
  int fd_ = -1;
  std::string buffer_;
  bool closed_ = false;
};

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_LINE_CLIENT_H_
