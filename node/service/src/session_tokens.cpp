#include "chat/service/session_tokens.h"

#include <sodium.h>

#include <cstring>
#include <vector>

#include "chat/common/check.h"
#include "chat/protocol/byte_io.h"

namespace chat::service {
namespace {

constexpr uint8_t kFormat = 2;  // 1 had no generation; its tokens are refused
constexpr size_t kMacBytes = crypto_auth_hmacsha256_BYTES;
constexpr size_t kFixedBytes = 1 + 8 + 8 + 8 + 1;
constexpr int kBase64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
// Names are at most 32 bytes (protocol limits); a token is far below this.
constexpr size_t kMaxTokenChars = 256;

void putU64(std::vector<uint8_t>& out, uint64_t v) {
  out.resize(out.size() + 8);
  protocol::storeBigEndian(out.data() + out.size() - 8, v);
}

void initSodium() {
  CHAT_CHECK(sodium_init() >= 0);
}

}  // namespace

SessionKey randomSessionKey() {
  initSodium();
  SessionKey key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string SessionTokens::issue(const SessionClaim& claim) const {
  std::vector<uint8_t> raw;
  raw.push_back(kFormat);
  putU64(raw, claim.uid);
  putU64(raw, static_cast<uint64_t>(claim.loginAtMillis));
  putU64(raw, claim.generation);
  raw.push_back(static_cast<uint8_t>(std::min<size_t>(claim.name.size(), 255)));
  raw.insert(raw.end(), claim.name.begin(), claim.name.begin() + raw.back());
  std::array<uint8_t, kMacBytes> mac{};
  crypto_auth_hmacsha256(mac.data(), raw.data(), raw.size(), key_.data());
  raw.insert(raw.end(), mac.begin(), mac.end());
  std::string text(sodium_base64_encoded_len(raw.size(), kBase64), '\0');
  sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(), kBase64);
  text.resize(std::strlen(text.c_str()));
  return text;
}

Result<SessionClaim> SessionTokens::verify(std::string_view token, int64_t nowMillis) const {
  auto invalid = Status::invalidArgument("the session token is not valid here");
  if (token.empty() || token.size() > kMaxTokenChars) {
    return invalid;
  }
  std::vector<uint8_t> raw(token.size());
  size_t length = 0;
  if (sodium_base642bin(raw.data(), raw.size(), token.data(), token.size(), nullptr, &length,
                        nullptr, kBase64) != 0 ||
      length < kFixedBytes + kMacBytes) {
    return invalid;
  }
  raw.resize(length);
  size_t nameLength = raw[kFixedBytes - 1];
  if (raw[0] != kFormat || length != kFixedBytes + nameLength + kMacBytes) {
    return invalid;
  }
  size_t signedBytes = kFixedBytes + nameLength;
  std::array<uint8_t, kMacBytes> mac{};
  crypto_auth_hmacsha256(mac.data(), raw.data(), signedBytes, key_.data());
  if (sodium_memcmp(mac.data(), raw.data() + signedBytes, kMacBytes) != 0) {
    return invalid;
  }
  SessionClaim claim;
  claim.uid = protocol::loadBigEndian<uint64_t>(raw.data() + 1);
  claim.loginAtMillis = static_cast<int64_t>(protocol::loadBigEndian<uint64_t>(raw.data() + 9));
  claim.generation = protocol::loadBigEndian<uint64_t>(raw.data() + 17);
  claim.name.assign(reinterpret_cast<const char*>(raw.data() + kFixedBytes), nameLength);
  if (nowMillis - claim.loginAtMillis > lifetime_.count()) {
    return Status::timeout("the session token expired (a session lasts " +
                           std::to_string(lifetime_.count() / 3'600'000) +
                           " h from its password login)");
  }
  return claim;
}

}  // namespace chat::service
