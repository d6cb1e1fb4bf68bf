// The binary encoding of replication messages between nodes (the peer port, issue #3).
//
//   u8 kind (0 vote request, 1 vote reply, 2 append request, 3 append reply, 4 timeout now)
//   u32 from, u32 to, then the kind's fields in declaration order (raft_messages.h):
//   integers big-endian, bools as u8; an append request's entries as u32 count followed by
//   log entries in the operation-record encoding (operation.h).
//
// Decoding never trusts its input: counts are checked against the bytes present, and any
// failure is a kCorruption Status. Thread contract: pure functions.
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
