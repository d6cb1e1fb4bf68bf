// PasswordHasher: passwords are stored only as Argon2id hashes (libsodium crypto_pwhash_str).
// The cost is a setting: "interactive" (libsodium's interactive limits, ~64 MiB and tens of
// milliseconds per hash) for production, "min" for tests and benchmarks that create
// thousands of accounts. Hash strings carry their own parameters, so verification works
// whatever cost made them.
// Thread contract: thread-safe.
#ifndef CHAT_SERVICE_PASSWORD_HASHER_H_
#define CHAT_SERVICE_PASSWORD_HASHER_H_

#include <string>
#include <string_view>

#include "chat/common/status.h"

namespace chat::service {

enum class HashCost { kMin, kInteractive, kModerate };

// "min", "interactive" or "moderate"; kInvalidArgument otherwise.
Result<HashCost> parseHashCost(std::string_view name);

class PasswordHasher {
 public:
  explicit PasswordHasher(HashCost cost);
  // kUnavailable when libsodium cannot allocate the hash memory.
  Result<std::string> hash(std::string_view password) const;
  bool verify(std::string_view hash, std::string_view password) const;

 private:
  unsigned long long opsLimit_;
  size_t memLimit_;
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_PASSWORD_HASHER_H_
