#include "chat/service/password_hasher.h"

#include <sodium.h>

namespace chat::service {

Result<HashCost> parseHashCost(std::string_view name) {
  if (name == "min") {
    return HashCost::kMin;
  }
  if (name == "interactive") {
    return HashCost::kInteractive;
  }
  if (name == "moderate") {
    return HashCost::kModerate;
  }
  return Status::invalidArgument("password hash cost '" + std::string(name) +
                                 "' is unknown; use min, interactive or moderate");
}

PasswordHasher::PasswordHasher(HashCost cost) {
  CHAT_CHECK(sodium_init() >= 0);
  switch (cost) {
    case HashCost::kMin:
      opsLimit_ = crypto_pwhash_OPSLIMIT_MIN;
      memLimit_ = crypto_pwhash_MEMLIMIT_MIN;
      break;
    case HashCost::kInteractive:
      opsLimit_ = crypto_pwhash_OPSLIMIT_INTERACTIVE;
      memLimit_ = crypto_pwhash_MEMLIMIT_INTERACTIVE;
      break;
    case HashCost::kModerate:
      opsLimit_ = crypto_pwhash_OPSLIMIT_MODERATE;
      memLimit_ = crypto_pwhash_MEMLIMIT_MODERATE;
      break;
  }
}

Result<std::string> PasswordHasher::hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), opsLimit_, memLimit_,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::unavailable("out of memory while hashing the password; try again");
  }
  return std::string(out);
}

bool PasswordHasher::verify(std::string_view hash, std::string_view password) const {
  std::string h(hash);  // libsodium wants a NUL-terminated string
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

}  // namespace chat::service
