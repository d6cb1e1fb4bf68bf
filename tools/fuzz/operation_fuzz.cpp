// libFuzzer target: arbitrary bytes as replicated log entries and operation records (what a
// peer or a damaged file could hand us). Decoding must fail cleanly, and whatever decodes
// must re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "chat/storage/operation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  auto op = chat::storage::decodeOperation(bytes);
  if (op) {
    auto again = chat::storage::encodeOperation(*op);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) {
      std::abort();  // decode and encode disagree
    }
  }
  while (!bytes.empty()) {
    size_t used = 0;
    auto entry = chat::storage::decodeLogEntry(bytes, used);
    if (!entry || used == 0) {
      break;
    }
    bytes = bytes.subspan(used);
  }
  return 0;
}
