// libFuzzer target: arbitrary text lines through the line-mode parser and reply formatter.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chat/protocol/line_mode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (auto parsed = chat::protocol::parseLine(line)) {
      if (auto* request = std::get_if<chat::protocol::LineRequest>(&*parsed)) {
        chat::protocol::Response failure = chat::protocol::Response::failure(
            1, chat::protocol::requestOpcode(request->request),
            chat::protocol::ErrorCode::kMalformed, "x");
        (void)chat::protocol::formatLineReply(*request, failure);
      }
    }
    if (eol == std::string_view::npos) {
      break;
    }
    text.remove_prefix(eol + 1);
  }
  return 0;
}
