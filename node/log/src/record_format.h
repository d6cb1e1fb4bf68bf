// The on-disk format of log segments (docs/architecture.md, "The log on disk"). Every
// integer is little-endian; every record starts at a multiple of 8 bytes, so a record's
// header never straddles an 8-byte boundary and a scan can resynchronise on one.
//
// A segment file <sequence:016x>.seg, preallocated with zeros to its full size:
//
//   +0  u32 magic 0x47 0x4c 0x48 0x43 ("CHLG")
//   +4  u16 format version (1)
//   +6  u16 header size (32)
//   +8  u64 sequence number (the file's name, checked)
//   +16 u64 reserved, zero
//   +24 u32 reserved, zero
//   +28 u32 masked CRC32C of bytes 0..27
//   +32 records, then zeros to the end of the file
//
// A record:
//
//   +0  u32 masked CRC32C of bytes 4 .. 24+length (type, length, epoch, index, payload)
//   +4  u32 type << 24 | payload length (at most kMaxPayloadBytes)
//   +8  u64 epoch
//   +16 u64 index
//   +24 payload, then zeros to a multiple of 8
//
// Types have fixed values: 0 is never written (a zero header is the preallocated tail),
// 1 an entry, 2 "drop the entries from index on" (a Raft suffix truncation, appended rather
// than rewritten in place).
#ifndef CHAT_LOG_RECORD_FORMAT_H_
#define CHAT_LOG_RECORD_FORMAT_H_

#include <cstdint>
#include <cstring>
#include <span>

namespace chat::log::format {

inline constexpr uint32_t kSegmentMagic = 0x43484c47U;  // "GLHC" read little-endian
inline constexpr uint16_t kVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 32;
inline constexpr size_t kRecordHeaderBytes = 24;
inline constexpr uint32_t kMaxPayloadBytes = 4U << 20;
// One write between two fdatasyncs covers at most this many bytes (plus one record), so a
// write torn out of order by the page cache spans at most that plus one record.
inline constexpr size_t kMaxGroupBytes = 8U << 20;
// Disks tear at sector granularity: an unwritten part of a torn write is a zero sector.
inline constexpr size_t kSectorBytes = 512;

enum class RecordType : uint8_t {
  kZero = 0,  // never written: the preallocated tail
  kEntry = 1,
  kTruncate = 2,
};

inline size_t paddedSize(size_t payload) {
  return (kRecordHeaderBytes + payload + 7) & ~static_cast<size_t>(7);
}

inline void putU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void putU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}
inline void putU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}
inline uint16_t getU16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t getU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}
inline uint64_t getU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}

}  // namespace chat::log::format

#endif  // CHAT_LOG_RECORD_FORMAT_H_
