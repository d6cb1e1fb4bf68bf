#include "session_key_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace chat::node {

Result<service::SessionKey> loadOrCreateSessionKey(const std::string& path) {
  service::SessionKey key{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = ::read(fd, key.data(), key.size());
    char extra = 0;
    ssize_t more = n == static_cast<ssize_t>(key.size()) ? ::read(fd, &extra, 1) : 0;
    ::close(fd);
    if (n != static_cast<ssize_t>(key.size()) || more != 0) {
      return Status::corruption(path + " is not a 32-byte session key; delete it to make a new one "
                                        "(clients will then log in again with their passwords)");
    }
    return key;
  }
  if (errno != ENOENT) {
    return Status::ioError("cannot read " + path + ": " + std::strerror(errno));
  }
  key = service::randomSessionKey();
  std::string tmp = path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::ioError("cannot create " + tmp + ": " + std::strerror(errno));
  }
  bool written = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                 ::fsync(fd) == 0;
  ::close(fd);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::ioError("cannot write " + path + ": " + std::strerror(errno));
  }
  return key;
}

}  // namespace chat::node
