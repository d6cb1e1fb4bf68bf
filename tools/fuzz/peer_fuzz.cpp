// libFuzzer target: arbitrary bytes as a replication message from a peer. Decoding must fail
// cleanly, and whatever decodes must re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "chat/replication/peer_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto envelope = chat::replication::decodeEnvelope({data, size});
  if (envelope) {
    auto again = chat::replication::encodeEnvelope(*envelope);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) {
      std::abort();  // decode and encode disagree
    }
  }
  return 0;
}
