// Cluster secrets for tests: a fresh random one per cluster (nodes refuse weak ones), kept
// in a file only this user can read, as a cluster keeps it.
#ifndef CHAT_TESTS_SUPPORT_CLUSTER_SECRET_H_
#define CHAT_TESTS_SUPPORT_CLUSTER_SECRET_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>

namespace chat::testing {

// 64 hex digits from std::random_device: 256 bits, like `openssl rand -hex 32`.
inline std::string randomSecret() {
  std::random_device random;
  std::string out;
  for (int i = 0; i < 8; ++i) {
    char word[9];
    std::snprintf(word, sizeof word, "%08x", static_cast<unsigned>(random()));
    out += word;
  }
  return out;
}

// Writes `text` to `path`, mode 0600 (replacing the file). False when it cannot.
inline bool writePrivateFile(const std::string& path, const std::string& text) {
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return false;
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_CLUSTER_SECRET_H_
