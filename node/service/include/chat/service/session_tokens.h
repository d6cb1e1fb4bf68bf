// SessionTokens: the tokens a login reply hands out so that a client can take its session up
// again on another connection, or another node after a failover, without the password.
// A token is stateless: every node of a cluster derives the same key from the cluster secret,
// so any of them can check a token that another issued. It names the account by its uid as
// well as its name, so a token outlives neither the account nor its re-creation.
//
// Token (before base64url, without padding):
//   u8 format (1) | u64 uid | i64 issued at (ms since the epoch) | u8 name length | name
//   | HMAC-SHA256(key, everything before) (32 bytes)
//
// Thread contract: immutable after construction; thread-safe.
#ifndef CHAT_SERVICE_SESSION_TOKENS_H_
#define CHAT_SERVICE_SESSION_TOKENS_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "chat/common/status.h"

namespace chat::service {

using SessionKey = std::array<uint8_t, 32>;

// A fresh random key (a standalone node keeps it in its data folder).
SessionKey randomSessionKey();

struct SessionClaim {
  uint64_t uid = 0;
  std::string name;
  int64_t issuedAtMillis = 0;
};

class SessionTokens {
 public:
  SessionTokens(const SessionKey& key, std::chrono::milliseconds lifetime)
      : key_(key), lifetime_(lifetime) {}

  std::string issue(uint64_t uid, std::string_view name, int64_t nowMillis) const;
  // The claim of a genuine token that has not expired. kInvalidArgument for anything that
  // is not a token of this key (garbled, forged, made by another cluster); kTimeout for an
  // expired one. The caller checks that the account still exists with that uid.
  Result<SessionClaim> verify(std::string_view token, int64_t nowMillis) const;

 private:
  SessionKey key_;
  std::chrono::milliseconds lifetime_;
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_SESSION_TOKENS_H_
