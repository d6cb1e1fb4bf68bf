// The binary encoding of replication messages between nodes (the peer port, issue #3).
//
//   u8 kind (0 vote request, 1 vote reply, 2 append request, 3 append reply, 4 timeout now)
//   u32 from, u32 to, then the kind's fields in declaration order (raft_messages.h):
//   integers big-endian, bools as u8; an append request's entries as u32 count followed by
//   u64 epoch, u64 index, u32 length, u32 CRC32C of the payload, payload (the bytes the
//   leader's proposer encoded, sent as they are).
//
// Decoding never trusts its input: counts are checked against the bytes present, every
// payload against its CRC, and any failure is a kCorruption Status. Thread contract: pure functions.
#ifndef CHAT_REPLICATION_PEER_CODEC_H_
#define CHAT_REPLICATION_PEER_CODEC_H_

#include <cstdint>
#include <span>
#include <vector>

#include "chat/common/status.h"
#include "chat/replication/raft_messages.h"

namespace chat::replication {

std::vector<uint8_t> encodeEnvelope(const Envelope& envelope);
Result<Envelope> decodeEnvelope(std::span<const uint8_t> bytes);

}  // namespace chat::replication

#endif  // CHAT_REPLICATION_PEER_CODEC_H_
