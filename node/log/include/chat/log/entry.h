// Entry: one record of the replicated log, as the log stores it and the replication core
// ships it: a position (epoch, index) and an opaque payload. The log knows nothing of what
// the payload means; the chat service encodes its operations into it.
// Thread contract: a plain value.
#ifndef CHAT_LOG_ENTRY_H_
#define CHAT_LOG_ENTRY_H_

#include <cstdint>
#include <vector>

namespace chat::log {

struct Entry {
  uint64_t epoch = 0;
  uint64_t index = 0;  // 1-based, dense, increasing
  std::vector<uint8_t> payload;
  bool operator==(const Entry&) const = default;
};

}  // namespace chat::log

#endif  // CHAT_LOG_ENTRY_H_
