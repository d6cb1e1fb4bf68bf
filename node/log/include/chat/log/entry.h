// Entry: one record of the replicated log, as the log stores it and the replication core
// ships it: a position (epoch, index) and an opaque payload. The log knows nothing of what
// the payload means; the chat service encodes its operations into it.
//
// A Payload is immutable and shared: an operation is encoded once, when it is proposed, and
// the same bytes are then kept by the replication core, written to the log and sent to every
// follower, each holding a reference instead of a copy. Its CRC32C is computed once, with
// the bytes; the peer wire carries it so that a follower checks what it is about to write.
//
// Thread contract: Entry is a plain value; a Payload may be shared between threads (its
// bytes never change).
#ifndef CHAT_LOG_ENTRY_H_
#define CHAT_LOG_ENTRY_H_

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

namespace chat::log {

class Payload {
 public:
  Payload() = default;
  // Implicit: a payload is its bytes.
  Payload(std::vector<uint8_t> bytes);  // NOLINT(google-explicit-constructor)
  Payload(std::initializer_list<uint8_t> bytes) : Payload(std::vector<uint8_t>(bytes)) {}

  std::span<const uint8_t> bytes() const {
    return shared_ ? std::span<const uint8_t>(shared_->bytes) : std::span<const uint8_t>();
  }
  size_t size() const { return shared_ ? shared_->bytes.size() : 0; }
  bool empty() const { return size() == 0; }
  // CRC32C of the bytes (unmasked); 0 for an empty payload.
  uint32_t crc() const { return shared_ ? shared_->crc : 0; }

  bool operator==(const Payload& other) const {
    return std::ranges::equal(bytes(), other.bytes());
  }

 private:
  struct Shared {
    std::vector<uint8_t> bytes;
    uint32_t crc = 0;
  };
  std::shared_ptr<const Shared> shared_;
};

struct Entry {
  uint64_t epoch = 0;
  uint64_t index = 0;  // 1-based, dense, increasing
  Payload payload;
  bool operator==(const Entry&) const = default;
};

}  // namespace chat::log

#endif  // CHAT_LOG_ENTRY_H_
