// libFuzzer target: arbitrary bytes as an operation record (a log entry's payload, which a
// peer or a damaged file could hand us). Decoding must fail cleanly, and whatever decodes
// must re-encode to the same bytes (except the empty payload, the leader's no-op, and a record
// written before its kind gained the optional trailing uid, which re-encodes with a 0 uid).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "chat/storage/operation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  auto op = chat::storage::decodeOperation(bytes);
  if (op && size > 0) {
    auto again = chat::storage::encodeOperation(*op);
    bool same = again.size() == size && std::equal(again.begin(), again.end(), data);
    bool olderRecord = again.size() == size + 8 && std::equal(data, data + size, again.begin()) &&
                       std::all_of(again.begin() + static_cast<std::ptrdiff_t>(size), again.end(),
                                   [](uint8_t b) { return b == 0; });
    if (!same && !olderRecord) {
      std::abort();  // decode and encode disagree
    }
  }
  return 0;
}
