// The cluster secret: where it comes from, whether it is strong enough, and the keys derived
// from it. Whoever knows it can join the cluster as a node (fetch every message and password
// hash in a snapshot, append entries) and forge session tokens, so:
//
// - a cluster file names it with `secret_file = PATH`, a file of its own that no other user
//   may read (0600, or 0640 for a service group), kept out of git; `secret = VALUE` inline is
//   accepted for a cluster file that is itself private;
// - every program that uses it refuses the value the suite once shipped and any secret of
//   under 128 bits, estimated from the characters actually used (their Shannon entropy
//   times the length: forty times one letter is 0 bits, `openssl rand -hex 32` about 250);
// - keys come from it through HKDF-SHA256 (RFC 5869), one per purpose, never a bare hash.
//
// Thread contract: pure functions, except the file reads and writes they name.
#ifndef CHAT_CLUSTER_CLUSTER_SECRET_H_
#define CHAT_CLUSTER_CLUSTER_SECRET_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "chat/cluster/cluster_config.h"
#include "chat/common/status.h"

namespace chat::cluster {

inline constexpr double kMinSecretBits = 128;

// The secret's entropy in bits, estimated from its own characters.
double estimateSecretBits(std::string_view secret);
// Ok when `secret` may guard a cluster. Errors: kInvalidArgument naming `where` (the file
// and key), how strong it is, and how to make a good one.
Status checkSecretStrength(std::string_view secret, const std::string& where);
// Fills config.secret from config.secretFile when it names one (a file others cannot read),
// then checks its strength. Errors: kInvalidArgument (no secret, missing or unreadable file,
// a file others may read, a weak secret), each saying what to do.
Status loadClusterSecret(ClusterConfig& config);
// Writes a new secret (32 bytes from the system's random source, as 64 hex digits) to
// `path`, mode 0600, creating its folder (0700) if needed; never replaces a file.
// Errors: kIoError.
Status makeSecretFile(const std::string& path);

using ClusterKey = std::array<uint8_t, 32>;
// HKDF-SHA256 (RFC 5869) with one block of output: extract with `salt`, expand with `info`.
ClusterKey hkdfSha256(std::string_view inputKey, std::string_view salt, std::string_view info);
// The key for `purpose` ("peer authentication", "session tokens"): HKDF-SHA256 with a fixed
// salt, the secret as input keying material and the purpose as info. Every node derives
// the same key from the same secret; one purpose's key says nothing of another's.
ClusterKey deriveClusterKey(std::string_view secret, std::string_view purpose);

}  // namespace chat::cluster

#endif  // CHAT_CLUSTER_CLUSTER_SECRET_H_
