#include "chat/protocol/byte_io.h"

#include <cstring>

namespace chat::protocol {

namespace {
template <class T>
void append(std::vector<uint8_t>& bytes, T v) {
  bytes.resize(bytes.size() + sizeof(T));
  storeBigEndian(bytes.data() + bytes.size() - sizeof(T), v);
}
}  // namespace

void ByteWriter::u16(uint16_t v) {
  append(bytes_, v);
}

void ByteWriter::u32(uint32_t v) {
  append(bytes_, v);
}

void ByteWriter::u64(uint64_t v) {
  append(bytes_, v);
}

void ByteWriter::str(std::string_view s) {
  CHAT_CHECK(s.size() <= UINT32_MAX);
  u32(static_cast<uint32_t>(s.size()));
  bytes_.insert(bytes_.end(), s.begin(), s.end());
}

void ByteWriter::patchU32(size_t offset, uint32_t v) {
  CHAT_CHECK(offset + 4 <= bytes_.size());
  for (int i = 0; i < 4; ++i) {
    bytes_[offset + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (24 - 8 * i));
  }
}

Status ByteReader::need(size_t n, std::string_view what) const {
  if (remaining() < n) {
    return Status::invalidArgument("truncated " + std::string(what) + ": need " +
                                   std::to_string(n) + " bytes, have " +
                                   std::to_string(remaining()));
  }
  return Status::ok();
}

Result<uint8_t> ByteReader::u8() {
  CHAT_RETURN_IF_ERROR(need(1, "u8"));
  return bytes_[pos_++];
}

Result<uint16_t> ByteReader::u16() {
  CHAT_RETURN_IF_ERROR(need(2, "u16"));
  auto v = loadBigEndian<uint16_t>(bytes_.data() + pos_);
  pos_ += 2;
  return v;
}

Result<uint32_t> ByteReader::u32() {
  CHAT_RETURN_IF_ERROR(need(4, "u32"));
  auto v = loadBigEndian<uint32_t>(bytes_.data() + pos_);
  pos_ += 4;
  return v;
}

Result<uint64_t> ByteReader::u64() {
  CHAT_RETURN_IF_ERROR(need(8, "u64"));
  auto v = loadBigEndian<uint64_t>(bytes_.data() + pos_);
  pos_ += 8;
  return v;
}

Result<int64_t> ByteReader::i64() {
  auto v = u64();
  if (!v) {
    return v.error();
  }
  return static_cast<int64_t>(*v);
}

Result<std::string> ByteReader::str(size_t maxBytes, std::string_view what) {
  auto len = u32();
  if (!len) {
    return Status::invalidArgument("truncated length of " + std::string(what));
  }
  // Check the limit before allocating: a hostile length must not make us reserve memory.
  if (*len > maxBytes) {
    return Status::invalidArgument(std::string(what) + " is " + std::to_string(*len) +
                                   " bytes, the limit is " + std::to_string(maxBytes));
  }
  CHAT_RETURN_IF_ERROR(need(*len, what));
  std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), *len);
  pos_ += *len;
  if (!isValidUtf8(s)) {
    return Status::invalidArgument(std::string(what) + " is not valid UTF-8");
  }
  return s;
}

Result<std::span<const uint8_t>> ByteReader::bytes(size_t n) {
  CHAT_RETURN_IF_ERROR(need(n, "bytes"));
  auto view = bytes_.subspan(pos_, n);
  pos_ += n;
  return view;
}

Status ByteReader::expectEnd() const {
  if (!atEnd()) {
    return Status::invalidArgument(std::to_string(remaining()) + " unexpected trailing bytes");
  }
  return Status::ok();
}

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // Text is mostly ASCII: eight bytes at a time while no high bit is set.
    if (i + 8 <= n) {
      uint64_t word = 0;
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
      min = 0x10000;
    } else {
      return false;
    }
    if (i + len > n) {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace chat::protocol
