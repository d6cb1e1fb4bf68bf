// SessionTokens: the tokens a login reply hands out so that a client can take its session up
// again on another connection, or another node after a failover, without the password.
// A token is stateless: every node of a cluster derives the same key from the cluster secret,
// so any of them can check a token that another issued. It names the account by its uid as
// well as its name, so a token outlives neither the account nor its re-creation; and the
// account's token generation when issued, which every logout moves on (replicated state), so
// a logout revokes every token issued before it. A token resumes a session until a fixed
// time after the password login it descends from: a resume hands out a token with the same
// login time, so a stolen token cannot be renewed for ever.
//
// Token (before base64url, without padding):
//   u8 format (2) | u64 uid | i64 password login (ms since the epoch) | u64 token generation
//   | u8 name length | name | HMAC-SHA256(key, everything before) (32 bytes)
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
  int64_t loginAtMillis = 0;  // the password login the session descends from
  uint64_t generation = 0;    // the account's token generation at issue
};

class SessionTokens {
 public:
  SessionTokens(const SessionKey& key, std::chrono::milliseconds lifetime)
      : key_(key), lifetime_(lifetime) {}

  std::string issue(const SessionClaim& claim) const;
  // The claim of a genuine token whose login is less than the lifetime ago. kInvalidArgument
  // for anything that is not a token of this key (garbled, forged, made by another cluster
  // or by an older format); kTimeout for an expired one. The caller checks that the account
  // still exists with that uid and generation.
  Result<SessionClaim> verify(std::string_view token, int64_t nowMillis) const;

 private:
  SessionKey key_;
  std::chrono::milliseconds lifetime_;
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_SESSION_TOKENS_H_
