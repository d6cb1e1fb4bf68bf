#include "chat/supervisor/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chat::supervisor {

namespace {

Result<sockaddr_un> addressOf(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Status::invalidArgument("the control socket path " + path +
                                   " is too long for a Unix socket; use a shorter --run-dir");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

bool writeAll(int fd, const std::string& text) {
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<ControlServer> ControlServer::listen(const std::string& path) {
  auto addr = addressOf(path);
  if (!addr) {
    return addr.error();
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return Status::ioError(std::string("socket: ") + std::strerror(errno));
  }
  ::unlink(path.c_str());  // a socket left by a supervisor that was killed
  // Connecting takes write permission on the socket file: only this user's (the folder is
  // private too, and every connection's user is checked in serveOne).
  if (::bind(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0 ||
      ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
    int err = errno;
    ::close(fd);
    return Status::ioError("cannot listen on " + path + ": " + std::strerror(err));
  }
  return ControlServer(fd, path);
}

ControlServer::ControlServer(ControlServer&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

ControlServer::~ControlServer() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

void ControlServer::serveOne(const std::function<std::string(const std::string&)>& handle) {
  int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) {
    return;
  }
  std::string line;
  char c = 0;
  pollfd p{client, POLLIN, 0};
  while (line.size() < 4096 && ::poll(&p, 1, 1000) == 1) {
    ssize_t n = ::recv(client, &c, 1, 0);
    if (n <= 0 || c == '\n') {
      break;
    }
    line.push_back(c);
  }
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  // Kill, pause and stop are for this supervisor's user (and root), whatever the file's mode.
  // Checked once the request is read, so that the refusal is not lost to a reset.
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 ||
      (peer.uid != ::geteuid() && peer.uid != 0)) {
    (void)writeAll(client, "ERROR only the user who runs chat-supervisor (or root) may control "
                           "it; run chat-supervisor ctl as that user\n");
    ::close(client);
    return;
  }
  (void)writeAll(client, handle(line));
  ::close(client);
}

Result<std::string> controlRequest(const std::string& path, const std::string& request,
                                   std::chrono::milliseconds timeout) {
  auto addr = addressOf(path);
  if (!addr) {
    return addr.error();
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Status::ioError(std::string("socket: ") + std::strerror(errno));
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0) {
    int err = errno;
    ::close(fd);
    return Status::unavailable("no supervisor is listening on " + path + " (" +
                               std::strerror(err) + "); is chat-supervisor running with this "
                               "--run-dir?");
  }
  if (!writeAll(fd, request + "\n")) {
    ::close(fd);
    return Status::unavailable("the supervisor closed the control connection");
  }
  std::string answer;
  char buffer[4096];
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) {
      ::close(fd);
      return Status::timeout("the supervisor did not answer within " +
                             std::to_string(timeout.count()) + " ms");
    }
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    answer.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

}  // namespace chat::supervisor
