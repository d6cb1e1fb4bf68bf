// libFuzzer target: arbitrary bytes as the records of a log segment, behind a valid segment
// header (what a damaged or torn disk could hand a starting node). Opening the log must fail
// cleanly (kCorruption naming the file) or recover dense entries; opening it again must give
// the same entries (recovery is idempotent), and the log must then take an append.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "chat/log/crc32c.h"
#include "chat/log/segment_log.h"
#include "fakes/memory_file_system.h"

namespace {

constexpr const char* kDir = "/data/log";
constexpr const char* kSegment = "/data/log/0000000000000001.seg";

// The 32-byte header of segment 1 (node/log/src/record_format.h), written out by hand.
std::vector<uint8_t> segmentHeader() {
  std::vector<uint8_t> h(32, 0);
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      h[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
    }
  };
  put32(0, 0x43484c47U);  // "GLHC"
  h[4] = 1;               // version
  h[6] = 32;              // header size
  h[8] = 1;               // sequence 1
  put32(28, chat::log::crc32c::mask(chat::log::crc32c::value({h.data(), 28})));
  return h;
}

chat::log::LogOptions options() {
  chat::log::LogOptions o;
  o.segmentBytes = 64 * 1024;
  o.maxPayloadBytes = 4 * 1024;
  o.prepareInBackground = false;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 60 * 1024) {
    return 0;  // a segment holds 64 KiB here
  }
  chat::testing::MemoryFileSystem fs;
  (void)fs.createDir(kDir);
  std::vector<uint8_t> file = segmentHeader();
  file.insert(file.end(), data, data + size);
  file.resize(64 * 1024, 0);  // preallocated, as the log writes it
  fs.setContents(kSegment, file);
  std::vector<chat::log::Entry> first;
  {
    auto log = chat::log::SegmentLog::open(fs, kDir, options(), 0);
    if (!log) {
      if (log.error().code() != chat::StatusCode::kCorruption) {
        std::abort();  // damage must be reported as such, never as something else
      }
      return 0;
    }
    first = (*log)->takeRecovered();
    for (size_t i = 1; i < first.size(); ++i) {
      if (first[i].index != first[0].index + i) {
        std::abort();  // recovered entries must be dense
      }
    }
  }
  auto again = chat::log::SegmentLog::open(fs, kDir, options(), 0);
  if (!again || (*again)->takeRecovered() != first) {
    std::abort();  // a second start must find what the first one did
  }
  uint64_t next = (*again)->lastIndex() + 1;
  if (!(*again)->append(chat::log::Entry{1, next, {1, 2, 3}}).isOk() ||
      !(*again)->sync().isOk()) {
    std::abort();
  }
  return 0;
}
