// ByteWriter and ByteReader: big-endian integers and length-prefixed UTF-8 strings, the
// primitives of the wire format (docs/protocol.md). The reader never throws and never reads
// past its buffer: every read returns a Result and checks the remaining length first.
// Thread contract: plain values; one thread at a time.
#ifndef CHAT_PROTOCOL_BYTE_IO_H_
#define CHAT_PROTOCOL_BYTE_IO_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/common/status.h"

namespace chat::protocol {

// Big-endian integers at a raw pointer: the one place their byte order is spelled out. The
// writer and reader below, the frame header, the peer port's messages and session tokens all
// go through these. REQUIRES: sizeof(T) bytes at `p`.
template <std::unsigned_integral T>
constexpr void storeBigEndian(uint8_t* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    p[i] = static_cast<uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
  }
}
template <std::unsigned_integral T>
constexpr T loadBigEndian(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>((uint64_t{v} << 8) | p[i]);
  }
  return v;
}

class ByteWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(v); }
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  // A u32 byte length, then the bytes. REQUIRES: s.size() fits in u32.
  void str(std::string_view s);
  void raw(std::span<const uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  // Overwrites 4 bytes at `offset` (used to patch a length prefix).
  void patchU32(size_t offset, uint32_t v);

  size_t size() const { return bytes_.size(); }
  std::vector<uint8_t>& bytes() { return bytes_; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  Result<uint8_t> u8();
  Result<uint16_t> u16();
  Result<uint32_t> u32();
  Result<uint64_t> u64();
  Result<int64_t> i64();
  // A length-prefixed string of at most `maxBytes`, checked to be valid UTF-8.
  Result<std::string> str(size_t maxBytes, std::string_view what);
  // The next `n` bytes as they are (a view into the input).
  Result<std::span<const uint8_t>> bytes(size_t n);
  size_t remaining() const { return bytes_.size() - pos_; }
  bool atEnd() const { return pos_ == bytes_.size(); }
  // Ok when every byte was consumed; a payload with trailing bytes is malformed.
  Status expectEnd() const;

 private:
  Status need(size_t n, std::string_view what) const;
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool isValidUtf8(std::string_view s);

}  // namespace chat::protocol

#endif  // CHAT_PROTOCOL_BYTE_IO_H_
