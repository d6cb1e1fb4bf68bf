// libFuzzer target: arbitrary bytes as a client's (and a server's) byte stream, fed in
// arbitrary chunks to the frame decoder, every frame decoded as a request and as a server
// message. Must never crash, hang or allocate beyond the frame limit.
#include <cstddef>
#include <cstdint>

#include "chat/protocol/frame.h"
#include "chat/protocol/message_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  chat::protocol::Limits limits;
  limits.maxFrameBytes = 4096;
  chat::protocol::FrameDecoder decoder(limits.maxFrameBytes);
  // The first byte picks a chunk size, so frames split across reads get exercised.
  size_t chunk = size > 0 ? (data[0] % 17) + 1 : 1;
  for (size_t at = size > 0 ? 1 : 0; at < size; at += chunk) {
    size_t n = at + chunk <= size ? chunk : size - at;
    decoder.feed({data + at, n});
    while (auto frame = decoder.next()) {
      auto request = chat::protocol::decodeRequest(*frame, limits);
      if (auto* r = std::get_if<chat::protocol::Request>(&request)) {
        std::vector<uint8_t> out;
        chat::protocol::appendRequestFrame(frame->requestId, *r, out);  // re-encodes cleanly
      }
      (void)chat::protocol::decodeServerFrame(*frame, limits);
    }
  }
  return 0;
}
