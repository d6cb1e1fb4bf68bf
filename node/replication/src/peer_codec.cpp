#include "chat/replication/peer_codec.h"

#include "chat/common/overloaded.h"
#include "chat/protocol/byte_io.h"

namespace chat::replication {

namespace {

using protocol::ByteReader;
using protocol::ByteWriter;

// Reads fields in order, remembering the first failure.
class Fields {
 public:
  explicit Fields(std::span<const uint8_t> bytes) : reader_(bytes) {}
  uint8_t u8() { return take(reader_.u8(), uint8_t{0}); }
  // Flags are 0 or 1: one encoding per message keeps decode and encode exact inverses.
  bool flag() {
    uint8_t v = u8();
    if (v > 1) {
      fail("flag byte " + std::to_string(v) + " is neither 0 nor 1");
    }
    return v == 1;
  }
  uint32_t u32() { return take(reader_.u32(), uint32_t{0}); }
  uint64_t u64() { return take(reader_.u64(), uint64_t{0}); }
  std::vector<log::Entry> entries() {
    uint32_t n = u32();
    std::vector<log::Entry> out;
    // Each entry takes at least 24 bytes (epoch, index, length, CRC).
    if (ok_ && size_t{n} * 24 > reader_.remaining()) {
      fail("entry count " + std::to_string(n) + " does not fit the message");
      return out;
    }
    out.reserve(n);
    for (uint32_t i = 0; i < n && ok_; ++i) {
      uint64_t epoch = u64();
      uint64_t index = u64();
      uint32_t length = u32();
      uint32_t crc = u32();
      if (!ok_) {
        break;
      }
      auto bytes = reader_.bytes(length);
      if (!bytes) {
        fail("entry " + std::to_string(index) + " of " + std::to_string(length) +
             " bytes is truncated");
        break;
      }
      log::Payload payload(std::vector<uint8_t>(bytes->begin(), bytes->end()));
      if (payload.crc() != crc) {
        // Written to the log as it is, so checked before it gets there.
        fail("entry " + std::to_string(index) + " fails its CRC32C check");
        break;
      }
      out.push_back(log::Entry{epoch, index, std::move(payload)});
    }
    return out;
  }
  void fail(std::string why) {
    if (ok_) {
      ok_ = false;
      error_ = std::move(why);
    }
  }
  Status finish() {
    if (ok_ && !reader_.atEnd()) {
      fail(std::to_string(reader_.remaining()) + " unexpected trailing bytes");
    }
    return ok_ ? Status::ok() : Status::corruption("bad peer message: " + error_);
  }

 private:
  template <typename T>
  T take(Result<T> r, T fallback) {
    if (!ok_) {
      return fallback;
    }
    if (!r) {
      fail(r.error().message());
      return fallback;
    }
    return *r;
  }
  ByteReader reader_;
  bool ok_ = true;
  std::string error_;
};

// The first byte of a peer message: fixed values, never the variant's index, so that
// reordering RaftMessage changes nothing on the wire between nodes of different builds.
enum class MessageKind : uint8_t {
  kVoteRequest = 0,
  kVoteReply = 1,
  kAppendRequest = 2,
  kAppendReply = 3,
  kTimeoutNow = 4,
  kSnapshotNotice = 5,
};
static_assert(std::variant_size_v<RaftMessage> == 6,
              "a new peer message needs a MessageKind of its own (and a decoder case)");

MessageKind kindOf(const RaftMessage& m) {
  return std::visit(Overloaded{
                        [](const VoteRequest&) { return MessageKind::kVoteRequest; },
                        [](const VoteReply&) { return MessageKind::kVoteReply; },
                        [](const AppendRequest&) { return MessageKind::kAppendRequest; },
                        [](const AppendReply&) { return MessageKind::kAppendReply; },
                        [](const TimeoutNow&) { return MessageKind::kTimeoutNow; },
                        [](const SnapshotNotice&) { return MessageKind::kSnapshotNotice; },
                    },
                    m);
}

}  // namespace

std::vector<uint8_t> encodeEnvelope(const Envelope& envelope) {
  ByteWriter w;
  w.u8(static_cast<uint8_t>(kindOf(envelope.message)));
  w.u32(envelope.from);
  w.u32(envelope.to);
  std::visit(Overloaded{
                 [&](const VoteRequest& m) {
                   w.u64(m.epoch);
                   w.u32(m.candidate);
                   w.u64(m.lastLogIndex);
                   w.u64(m.lastLogEpoch);
                   w.u8(m.preVote ? 1 : 0);
                   w.u8(m.transfer ? 1 : 0);
                 },
                 [&](const VoteReply& m) {
                   w.u64(m.epoch);
                   w.u8(m.granted ? 1 : 0);
                   w.u8(m.preVote ? 1 : 0);
                 },
                 [&](const AppendRequest& m) {
                   w.u64(m.epoch);
                   w.u32(m.leader);
                   w.u64(m.prevIndex);
                   w.u64(m.prevEpoch);
                   w.u64(m.leaderCommit);
                   w.u32(static_cast<uint32_t>(m.entries.size()));
                   // The proposal's bytes and their CRC, as computed once on the leader.
                   for (const auto& e : m.entries) {
                     w.u64(e.epoch);
                     w.u64(e.index);
                     w.u32(static_cast<uint32_t>(e.payload.size()));
                     w.u32(e.payload.crc());
                     w.raw(e.payload.bytes());
                   }
                 },
                 [&](const AppendReply& m) {
                   w.u64(m.epoch);
                   w.u8(m.success ? 1 : 0);
                   w.u64(m.index);
                 },
                 [&](const TimeoutNow& m) { w.u64(m.epoch); },
                 [&](const SnapshotNotice& m) {
                   w.u64(m.epoch);
                   w.u64(m.index);
                   w.u64(m.indexEpoch);
                 },
             },
             envelope.message);
  return w.take();
}

Result<Envelope> decodeEnvelope(std::span<const uint8_t> bytes) {
  Fields f(bytes);
  Envelope e;
  uint8_t kind = f.u8();
  e.from = f.u32();
  e.to = f.u32();
  switch (static_cast<MessageKind>(kind)) {
    case MessageKind::kVoteRequest: {
      VoteRequest m;
      m.epoch = f.u64();
      m.candidate = f.u32();
      m.lastLogIndex = f.u64();
      m.lastLogEpoch = f.u64();
      m.preVote = f.flag();
      m.transfer = f.flag();
      e.message = m;
      break;
    }
    case MessageKind::kVoteReply: {
      VoteReply m;
      m.epoch = f.u64();
      m.granted = f.flag();
      m.preVote = f.flag();
      e.message = m;
      break;
    }
    case MessageKind::kAppendRequest: {
      AppendRequest m;
      m.epoch = f.u64();
      m.leader = f.u32();
      m.prevIndex = f.u64();
      m.prevEpoch = f.u64();
      m.leaderCommit = f.u64();
      m.entries = f.entries();
      e.message = std::move(m);
      break;
    }
    case MessageKind::kAppendReply: {
      AppendReply m;
      m.epoch = f.u64();
      m.success = f.flag();
      m.index = f.u64();
      e.message = m;
      break;
    }
    case MessageKind::kTimeoutNow:
      e.message = TimeoutNow{f.u64()};
      break;
    case MessageKind::kSnapshotNotice: {
      SnapshotNotice m;
      m.epoch = f.u64();
      m.index = f.u64();
      m.indexEpoch = f.u64();
      e.message = m;
      break;
    }
    default:  // a byte from the network: any value may come
      f.fail("unknown message kind " + std::to_string(kind));
  }
  CHAT_RETURN_IF_ERROR(f.finish());
  return e;
}

}  // namespace chat::replication
