// CRC32C (Castagnoli), the checksum of every log record and state file: the SSE4.2
// instruction where the CPU has it (checked once at run time, no -march flag), a table
// otherwise. mask()/unmask() as in leveldb: a CRC stored inside data that is itself
// checksummed is masked, since the CRC of a string that embeds its own CRC is degenerate.
// Thread contract: pure functions.
#ifndef CHAT_LOG_CRC32C_H_
#define CHAT_LOG_CRC32C_H_

#include <cstdint>
#include <span>

namespace chat::log::crc32c {

// The CRC32C of `data` continued from `crc` (0 to start).
uint32_t extend(uint32_t crc, std::span<const uint8_t> data);
inline uint32_t value(std::span<const uint8_t> data) { return extend(0, data); }

inline constexpr uint32_t kMaskDelta = 0xa282ead8U;
inline uint32_t mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace chat::log::crc32c

#endif  // CHAT_LOG_CRC32C_H_
