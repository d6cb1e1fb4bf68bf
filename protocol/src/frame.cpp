#include "chat/protocol/frame.h"

#include <cstring>

#include "chat/protocol/byte_io.h"

namespace chat::protocol {

void encodeFrame(uint16_t opcode, uint64_t requestId, std::span<const uint8_t> payload,
                 std::vector<uint8_t>& out) {
  CHAT_CHECK(payload.size() <= UINT32_MAX - kFrameHeaderBytes);
  const auto length = static_cast<uint32_t>(kFrameHeaderBytes + payload.size());
  size_t start = out.size();
  out.resize(start + kLengthFieldBytes + length);
  uint8_t* p = out.data() + start;
  storeBigEndian(p, length);
  p += 4;
  *p++ = kBinaryVersion;
  storeBigEndian(p, opcode);
  p += 2;
  storeBigEndian(p, requestId);
  p += 8;
  if (!payload.empty()) {
    std::memcpy(p, payload.data(), payload.size());
  }
}

void FrameDecoder::feed(std::span<const uint8_t> bytes) {
  if (error_) {
    return;
  }
  // Compact lazily: only when the consumed prefix dominates, so feeding stays amortized O(n).
  if (readPos_ > 0 && readPos_ * 2 >= buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(readPos_));
    readPos_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<Frame> FrameDecoder::next() {
  if (error_) {
    return std::nullopt;
  }
  const size_t avail = buffer_.size() - readPos_;
  if (avail < kLengthFieldBytes) {
    return std::nullopt;
  }
  const uint8_t* p = buffer_.data() + readPos_;
  const auto length = loadBigEndian<uint32_t>(p);
  if (length < kFrameHeaderBytes) {
    error_ = FrameError{ErrorCode::kMalformed, "frame length " + std::to_string(length) +
                                                   " is shorter than the 11-byte header"};
    return std::nullopt;
  }
  if (length > maxFrameBytes_) {
    error_ = FrameError{ErrorCode::kTooLarge, "frame of " + std::to_string(length) +
                                                  " bytes exceeds the limit of " +
                                                  std::to_string(maxFrameBytes_) + " bytes"};
    return std::nullopt;
  }
  // The version is checked as soon as its byte arrives, before waiting for the whole frame.
  if (avail >= kLengthFieldBytes + 1 && p[4] != kBinaryVersion) {
    error_ = FrameError{ErrorCode::kUnsupportedVersion,
                        "protocol version " + std::to_string(p[4]) +
                            " is not supported; this server speaks version " +
                            std::to_string(kBinaryVersion) +
                            " (binary) and version 1 (text lines); update the client"};
    return std::nullopt;
  }
  if (avail < kLengthFieldBytes + length) {
    return std::nullopt;
  }
  Frame frame;
  frame.version = p[4];
  frame.opcode = loadBigEndian<uint16_t>(p + 5);
  frame.requestId = loadBigEndian<uint64_t>(p + 7);
  frame.payload.assign(p + kLengthFieldBytes + kFrameHeaderBytes, p + kLengthFieldBytes + length);
  readPos_ += kLengthFieldBytes + length;
  if (readPos_ == buffer_.size()) {
    buffer_.clear();
    readPos_ = 0;
  }
  return frame;
}

}  // namespace chat::protocol
