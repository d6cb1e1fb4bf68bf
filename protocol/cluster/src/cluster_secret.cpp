#include "chat/cluster/cluster_secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <sodium.h>

#include "chat/common/check.h"

namespace chat::cluster {

namespace {

// The placeholder etc/cluster.ini carried until the secret moved to a file of its own:
// public, so refused whatever its estimate.
constexpr std::string_view kShippedPlaceholders[] = {"change-me-a-long-random-string"};

constexpr const char* kHowToMake =
    "make one with: umask 077; openssl rand -hex 32 > FILE (or let chat-supervisor make "
    "it: it writes a missing secret_file of a cluster it runs itself)";

std::string trimmed(std::string text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  text.erase(end == std::string::npos ? 0 : end + 1);
  size_t start = text.find_first_not_of(" \t\r\n");
  text.erase(0, start == std::string::npos ? text.size() : start);
  return text;
}

}  // namespace

double estimateSecretBits(std::string_view secret) {
  if (secret.empty()) {
    return 0;
  }
  std::map<char, size_t> counts;
  for (char c : secret) {
    ++counts[c];
  }
  double n = static_cast<double>(secret.size());
  double perChar = 0;
  for (const auto& [c, count] : counts) {
    double p = static_cast<double>(count) / n;
    perChar -= p * std::log2(p);
  }
  return perChar * n;
}

Status checkSecretStrength(std::string_view secret, const std::string& where) {
  for (std::string_view shipped : kShippedPlaceholders) {
    if (secret == shipped) {
      return Status::invalidArgument(where + " is the placeholder the suite once shipped, "
                                     "which anyone can read; " + kHowToMake);
    }
  }
  double bits = estimateSecretBits(secret);
  if (bits < kMinSecretBits) {
    return Status::invalidArgument(
        where + " is too weak: about " + std::to_string(static_cast<int>(bits)) +
        " bits of entropy in its " + std::to_string(secret.size()) +
        " characters, and a cluster secret needs " +
        std::to_string(static_cast<int>(kMinSecretBits)) + "; " + kHowToMake);
  }
  return Status::ok();
}

Status loadClusterSecret(ClusterConfig& config) {
  if (config.secretFile.empty()) {
    if (config.secret.empty()) {
      return Status::invalidArgument(config.source +
                                     ": [cluster] has no secret_file (nor secret); add "
                                     "secret_file = PATH and " + kHowToMake);
    }
    return checkSecretStrength(config.secret, config.source + ": [cluster] secret");
  }
  const std::string& path = config.secretFile;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::invalidArgument(config.source + ": [cluster] secret_file " + path +
                                   " cannot be read (" + std::strerror(errno) + "); " +
                                   kHowToMake);
  }
  if ((st.st_mode & S_IRWXO) != 0) {
    return Status::invalidArgument(
        config.source + ": [cluster] secret_file " + path +
        " may be read by every user of this machine; make it private with: chmod 600 " + path);
  }
  std::ifstream in(path);
  if (!in) {
    return Status::invalidArgument(config.source + ": [cluster] secret_file " + path +
                                   " cannot be read (" + std::strerror(errno) +
                                   "); the node's user needs to read it");
  }
  std::stringstream text;
  text << in.rdbuf();
  config.secret = trimmed(text.str());
  return checkSecretStrength(config.secret, "the secret in " + path);
}

Status makeSecretFile(const std::string& path) {
  CHAT_CHECK(sodium_init() >= 0);
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Status::ioError("cannot create the folder " + parent.string() + " for the cluster "
                             "secret: " + ec.message());
    }
  }
  std::array<uint8_t, 32> random{};
  randombytes_buf(random.data(), random.size());
  std::array<char, 65> hex{};
  sodium_bin2hex(hex.data(), hex.size(), random.data(), random.size());
  sodium_memzero(random.data(), random.size());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::ioError("cannot create the cluster secret file " + path + ": " +
                           std::strerror(errno));
  }
  std::string line = std::string(hex.data(), 64) + "\n";
  sodium_memzero(hex.data(), hex.size());
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  int savedErrno = errno;
  ::close(fd);
  sodium_memzero(line.data(), line.size());
  if (!ok) {
    ::unlink(path.c_str());
    return Status::ioError("cannot write the cluster secret file " + path + ": " +
                           std::strerror(savedErrno));
  }
  return Status::ok();
}

ClusterKey hkdfSha256(std::string_view inputKey, std::string_view salt, std::string_view info) {
  CHAT_CHECK(sodium_init() >= 0);
  static_assert(crypto_auth_hmacsha256_BYTES == 32);
  // Extract: PRK = HMAC-SHA256(salt, input key).
  std::array<uint8_t, crypto_auth_hmacsha256_BYTES> prk{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const uint8_t*>(salt.data()), salt.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const uint8_t*>(inputKey.data()),
                                inputKey.size());
  crypto_auth_hmacsha256_final(&state, prk.data());
  // Expand, one block: T(1) = HMAC-SHA256(PRK, info || 0x01).
  ClusterKey key{};
  const uint8_t one = 1;
  crypto_auth_hmacsha256_init(&state, prk.data(), prk.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const uint8_t*>(info.data()),
                                info.size());
  crypto_auth_hmacsha256_update(&state, &one, 1);
  crypto_auth_hmacsha256_final(&state, key.data());
  sodium_memzero(prk.data(), prk.size());
  sodium_memzero(&state, sizeof state);
  return key;
}

ClusterKey deriveClusterKey(std::string_view secret, std::string_view purpose) {
  return hkdfSha256(secret, "chat-suite cluster secret v1", purpose);
}

}  // namespace chat::cluster
