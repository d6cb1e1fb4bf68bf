#include "chat/log/entry.h"

#include "chat/log/crc32c.h"

namespace chat::log {

Payload::Payload(std::vector<uint8_t> bytes) {
  if (bytes.empty()) {
    return;  // the empty payload shares nothing
  }
  uint32_t crc = crc32c::value(bytes);
  shared_ = std::make_shared<const Shared>(Shared{std::move(bytes), crc});
}

}  // namespace chat::log
