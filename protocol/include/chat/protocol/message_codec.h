// Encoding of requests, replies and pushes into frames, and their validated decoding.
// Every decode checks lengths against Limits before allocating and rejects trailing bytes;
// a failure is a Status carrying the ErrorCode to reply with (see DecodeFailure).
// Thread contract: pure functions.
#ifndef CHAT_PROTOCOL_MESSAGE_CODEC_H_
#define CHAT_PROTOCOL_MESSAGE_CODEC_H_

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "chat/protocol/frame.h"
#include "chat/protocol/messages.h"

namespace chat::protocol {

// Why a frame could not become a typed message, and the reply code to send back.
struct DecodeFailure {
  ErrorCode code = ErrorCode::kMalformed;
  std::string message;
};

template <typename T>
using Decoded = std::variant<T, DecodeFailure>;

void appendRequestFrame(uint64_t requestId, const Request& request, std::vector<uint8_t>& out);
void appendResponseFrame(const Response& response, std::vector<uint8_t>& out);
void appendPushFrame(const Push& push, std::vector<uint8_t>& out);

// Decodes a request frame. Unknown opcodes give kUnknownOpcode; bad field contents give
// kMalformed (structure) — semantic checks such as username rules belong to the service.
Decoded<Request> decodeRequest(const Frame& frame, const Limits& limits);
// Decodes a frame sent by the server: a Response or, for push opcodes, a Push.
using ServerMessage = std::variant<Response, Push>;
Decoded<ServerMessage> decodeServerFrame(const Frame& frame, const Limits& limits);

}  // namespace chat::protocol

#endif  // CHAT_PROTOCOL_MESSAGE_CODEC_H_
