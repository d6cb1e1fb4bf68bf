// Binary frames (protocol version 3) and their incremental decoder.
//
//   offset  size  field
//   0       4     length: bytes that follow this field (header + payload), big-endian
//   4       1     version: 2
//   5       2     opcode (wire_types.h)
//   7       8     request id; 0 on server pushes
//   15      n     payload (message_codec.h), n = length - 11
//
// Thread contract: FrameDecoder is not thread-safe; one per connection.
#ifndef CHAT_PROTOCOL_FRAME_H_
#define CHAT_PROTOCOL_FRAME_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chat/protocol/wire_types.h"

namespace chat::protocol {

inline constexpr size_t kLengthFieldBytes = 4;
inline constexpr size_t kFrameHeaderBytes = 11;  // version + opcode + request id

struct Frame {
  uint8_t version = kBinaryVersion;
  uint16_t opcode = 0;  // raw wire value: an unknown opcode is a reply, not a decode error
  uint64_t requestId = 0;
  std::vector<uint8_t> payload;
};

// Appends the encoded frame to `out`. REQUIRES: payload fits the frame limit of the reader.
void encodeFrame(uint16_t opcode, uint64_t requestId, std::span<const uint8_t> payload,
                 std::vector<uint8_t>& out);

// Why a byte stream cannot be decoded further. After an error the stream is unusable:
// the connection replies with `code` and closes.
struct FrameError {
  ErrorCode code;
  std::string message;
};

class FrameDecoder {
 public:
  explicit FrameDecoder(size_t maxFrameBytes) : maxFrameBytes_(maxFrameBytes) {}

  // Appends bytes read from the stream; any chunking is fine.
  void feed(std::span<const uint8_t> bytes);
  // The next complete frame, nullopt when more bytes are needed, or the error that stopped
  // decoding (then every later call returns the same error). Checks the length against the
  // limit before buffering the body, so a hostile length never allocates.
  std::optional<Frame> next();
  const std::optional<FrameError>& error() const { return error_; }
  // Bytes buffered and not yet returned as frames.
  size_t buffered() const { return buffer_.size() - readPos_; }

 private:
  size_t maxFrameBytes_;
  std::vector<uint8_t> buffer_;
  size_t readPos_ = 0;
  std::optional<FrameError> error_;
};

}  // namespace chat::protocol

#endif  // CHAT_PROTOCOL_FRAME_H_
