#include "chat/log/segment_log.h"

#include <array>
#include <cinttypes>
#include <cstdio>

#include "chat/common/process_info.h"
#include "chat/log/crc32c.h"
#include "record_format.h"

namespace chat::log {

using format::kRecordHeaderBytes;
using format::kSegmentHeaderBytes;

namespace {

constexpr const char* kSegmentSuffix = ".seg";
constexpr const char* kSpareSuffix = ".seg.tmp";

std::string hex16(uint64_t v) {
  std::array<char, 17> text{};
  std::snprintf(text.data(), text.size(), "%016" PRIx64, v);
  return text.data();
}

// The sequence number of a segment file's name, or 0 when it is not one.
uint64_t sequenceOf(const std::string& name) {
  if (name.size() != 16 + 4 || name.compare(16, 4, kSegmentSuffix) != 0) {
    return 0;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < 16; ++i) {
    char c = name[i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) {
      return 0;
    }
    v = (v << 4) | static_cast<uint64_t>(digit);
  }
  return v;
}

std::array<uint8_t, kSegmentHeaderBytes> segmentHeader(uint64_t sequence) {
  std::array<uint8_t, kSegmentHeaderBytes> h{};
  format::putU32(h.data(), format::kSegmentMagic);
  format::putU16(h.data() + 4, format::kVersion);
  format::putU16(h.data() + 6, static_cast<uint16_t>(kSegmentHeaderBytes));
  format::putU64(h.data() + 8, sequence);
  format::putU32(h.data() + 28, crc32c::mask(crc32c::value({h.data(), 28})));
  return h;
}

bool validSegmentHeader(std::span<const uint8_t> bytes, uint64_t sequence) {
  if (bytes.size() < kSegmentHeaderBytes) {
    return false;
  }
  const uint8_t* h = bytes.data();
  return format::getU32(h) == format::kSegmentMagic && format::getU16(h + 4) == format::kVersion &&
         format::getU16(h + 6) == kSegmentHeaderBytes && format::getU64(h + 8) == sequence &&
         crc32c::unmask(format::getU32(h + 28)) == crc32c::value({h, 28});
}

// One record read from a segment's bytes.
struct Parsed {
  enum class Kind { kValid, kZero, kBad, kEnd } kind = Kind::kEnd;
  uint8_t type = 0;
  uint64_t epoch = 0;
  uint64_t index = 0;
  std::span<const uint8_t> payload;
  size_t size = 0;  // with padding
};

Parsed parseRecord(std::span<const uint8_t> bytes, size_t offset) {
  Parsed p;
  if (offset + kRecordHeaderBytes > bytes.size()) {
    p.kind = Parsed::Kind::kEnd;
    return p;
  }
  const uint8_t* h = bytes.data() + offset;
  bool zero = true;
  for (size_t i = 0; i < kRecordHeaderBytes; ++i) {
    zero = zero && h[i] == 0;
  }
  if (zero) {
    p.kind = Parsed::Kind::kZero;
    return p;
  }
  p.kind = Parsed::Kind::kBad;
  uint32_t typeAndLength = format::getU32(h + 4);
  p.type = static_cast<uint8_t>(typeAndLength >> 24);
  uint32_t length = typeAndLength & 0xffffffU;
  if ((p.type != static_cast<uint8_t>(format::RecordType::kEntry) &&
       p.type != static_cast<uint8_t>(format::RecordType::kTruncate)) ||
      length > format::kMaxPayloadBytes) {
    return p;
  }
  // A length running past the file is a write cut short (or damage): never allocated.
  if (offset + kRecordHeaderBytes + length > bytes.size()) {
    return p;
  }
  uint32_t expected = crc32c::unmask(format::getU32(h));
  if (crc32c::value({h + 4, kRecordHeaderBytes - 4 + length}) != expected) {
    return p;
  }
  p.kind = Parsed::Kind::kValid;
  p.epoch = format::getU64(h + 8);
  p.index = format::getU64(h + 16);
  p.payload = {h + kRecordHeaderBytes, length};
  p.size = std::min(format::paddedSize(length), bytes.size() - offset);
  return p;
}

bool zeroSectorBetween(std::span<const uint8_t> bytes, size_t from, size_t to) {
  for (size_t s = from / format::kSectorBytes * format::kSectorBytes;
       s + format::kSectorBytes <= std::min(to, bytes.size()); s += format::kSectorBytes) {
    bool zero = true;
    for (size_t i = s; i < s + format::kSectorBytes && zero; ++i) {
      zero = bytes[i] == 0;
    }
    if (zero) {
      return true;
    }
  }
  return false;
}

// Creates the segment `sequence` at `path`: header, zeros to `size`, synced. Zeros are
// written rather than fallocated so that the blocks are allocated and initialised: an
// fdatasync of an append then has no extent conversion or file size to journal.
Status prepareSegmentFile(FileSystem& fs, const std::string& path, uint64_t sequence,
                          uint64_t size) {
  CHAT_RETURN_IF_ERROR(fs.remove(path));
  auto file = fs.open(path, OpenMode::kCreateExclusive);
  if (!file) {
    return file.error();
  }
  static const std::vector<uint8_t> kZeros(1U << 20);
  auto header = segmentHeader(sequence);
  CHAT_RETURN_IF_ERROR((*file)->write(0, std::array<ByteSpan, 1>{ByteSpan(header)}));
  uint64_t offset = kSegmentHeaderBytes;
  while (offset < size) {
    std::vector<ByteSpan> pieces;
    uint64_t end = std::min(size, offset + 32 * kZeros.size());
    for (uint64_t at = offset; at < end; at += kZeros.size()) {
      pieces.emplace_back(kZeros.data(), static_cast<size_t>(std::min<uint64_t>(kZeros.size(), end - at)));
    }
    CHAT_RETURN_IF_ERROR((*file)->write(offset, pieces));
    offset = end;
  }
  return (*file)->sync();
}

}  // namespace

SegmentLog::SegmentLog(FileSystem& fs, std::string dir, LogOptions options, uint64_t startAfter)
    : fs_(fs), dir_(std::move(dir)), options_(options), start_(startAfter) {}

SegmentLog::~SegmentLog() = default;  // the spare's thread joins

std::string SegmentLog::segmentPath(uint64_t sequence) const {
  return dir_ + "/" + hex16(sequence) + kSegmentSuffix;
}

Result<std::unique_ptr<SegmentLog>> SegmentLog::open(FileSystem& fs, const std::string& dir,
                                                     LogOptions options, uint64_t startAfter) {
  if (options.maxPayloadBytes > format::kMaxPayloadBytes ||
      options.segmentBytes < kSegmentHeaderBytes + format::paddedSize(options.maxPayloadBytes)) {
    return Status::invalidArgument("log segments must be larger than the largest record (" +
                                   std::to_string(options.maxPayloadBytes) + " bytes), which "
                                   "is at most " + std::to_string(format::kMaxPayloadBytes));
  }
  std::unique_ptr<SegmentLog> log(new SegmentLog(fs, dir, options, startAfter));
  CHAT_RETURN_IF_ERROR(fs.createDir(dir));
  auto lock = fs.lock(dir + "/LOCK");
  if (!lock) {
    return lock.error();
  }
  log->lock_ = std::move(lock).value();
  CHAT_RETURN_IF_ERROR(log->recover());
  return log;
}

Status SegmentLog::recover() {
  auto names = fs_.list(dir_);
  if (!names) {
    return names.error();
  }
  std::vector<uint64_t> sequences;
  for (const auto& name : *names) {
    if (name.ends_with(kSpareSuffix)) {
      CHAT_RETURN_IF_ERROR(fs_.remove(dir_ + "/" + name));  // a spare never put in use
    } else if (uint64_t seq = sequenceOf(name); seq != 0) {
      sequences.push_back(seq);
    }
  }
  std::sort(sequences.begin(), sequences.end());
  if (sequences.empty()) {
    return createFirstSegment();
  }
  for (size_t i = 1; i < sequences.size(); ++i) {
    if (sequences[i] != sequences[i - 1] + 1) {
      return Status::corruption("the log in " + dir_ + " lacks segment " +
                                hex16(sequences[i - 1] + 1) + kSegmentSuffix +
                                " (between two it holds); the log cannot be read past it. Move "
                                "the data folder aside and let the node rejoin from its peers");
    }
  }
  for (size_t i = 0; i < sequences.size(); ++i) {
    segments_.push_back(Segment{sequences[i], segmentPath(sequences[i]), 0});
    CHAT_RETURN_IF_ERROR(recoverSegment(i, i + 1 == sequences.size()));
  }
  report_.segments = segments_.size();
  auto active = fs_.open(segments_.back().path, OpenMode::kReadWrite);
  if (!active) {
    return active.error();
  }
  active_ = std::move(active).value();
  stagedOffset_ = writeOffset_;
  startPreparingSpare();
  return Status::ok();
}

Status SegmentLog::recoverSegment(size_t i, bool isLast) {
  const std::string& path = segments_[i].path;
  auto read = readWholeFile(fs_, path);
  if (!read) {
    return read.error();
  }
  std::span<const uint8_t> bytes = *read;
  auto damaged = [&](size_t offset, const std::string& what) {
    return Status::corruption("the log file " + path + " is damaged at offset " +
                              std::to_string(offset) + " (" + what +
                              "); entries after it cannot be trusted. Move the data folder "
                              "aside and let the node rejoin from its peers (its snapshot and "
                              "log), or restore it from a backup");
  };
  if (!validSegmentHeader(bytes, segments_[i].sequence)) {
    return damaged(0, "no valid segment header");
  }
  size_t offset = kSegmentHeaderBytes;
  for (;;) {
    Parsed p = parseRecord(bytes, offset);
    if (p.kind != Parsed::Kind::kValid) {
      break;
    }
    if (p.type == static_cast<uint8_t>(format::RecordType::kTruncate)) {
      if (p.index == 0) {
        return damaged(offset, "a truncation to index 0");
      }
      while (!recovered_.empty() && recovered_.back().index >= p.index) {
        recovered_.pop_back();
      }
      lastIndex_ = std::min(lastIndex_, p.index - 1);
    } else {
      if (p.index > start_ && p.index != std::max(lastIndex_, start_) + 1) {
        return damaged(offset, "entry " + std::to_string(p.index) + " follows entry " +
                                   std::to_string(std::max(lastIndex_, start_)));
      }
      if (p.index > start_) {
        recovered_.push_back(
            Entry{p.epoch, p.index, std::vector<uint8_t>(p.payload.begin(), p.payload.end())});
      }
      lastIndex_ = p.index;
      segments_[i].maxIndex = std::max(segments_[i].maxIndex, p.index);
    }
    ++report_.records;
    offset += p.size;
  }
  // Past the last valid record: the preallocated zeros, or something else.
  size_t end = bytes.size();
  while (end > offset && bytes[end - 1] == 0) {
    --end;
  }
  if (end > offset) {
    if (!isLast) {
      // Every segment but the last was synced whole before the next one was started.
      return damaged(offset, "an invalid record in a sealed segment");
    }
    // A valid record further on means damage in the middle, unless it is part of the same
    // unsynced write, torn out of order (its missing part is then a zero sector).
    for (size_t at = offset + 8; at + kRecordHeaderBytes <= end; at += 8) {
      if (parseRecord(bytes, at).kind == Parsed::Kind::kValid) {
        if (at - offset > format::kMaxGroupBytes + format::paddedSize(options_.maxPayloadBytes) || !zeroSectorBetween(bytes, offset, at)) {
          return damaged(offset, "an invalid record followed by valid ones");
        }
        break;
      }
    }
    // A torn tail: never acknowledged (its sync did not return). Keep a copy, then zero it
    // so that later appends never mix with its stale bytes.
    report_.tornFile = path;
    report_.tornOffset = offset;
    report_.tornBytes = end - offset;
    std::string aside = path + ".torn-" + std::to_string(offset);
    CHAT_RETURN_IF_ERROR(fs_.remove(aside));
    auto copy = fs_.open(aside, OpenMode::kCreateExclusive);
    if (!copy) {
      return copy.error();
    }
    ByteSpan tail = bytes.subspan(offset, end - offset);
    CHAT_RETURN_IF_ERROR((*copy)->write(0, std::array<ByteSpan, 1>{tail}));
    CHAT_RETURN_IF_ERROR((*copy)->sync());
    auto file = fs_.open(path, OpenMode::kReadWrite);
    if (!file) {
      return file.error();
    }
    std::vector<uint8_t> zeros(end - offset);
    CHAT_RETURN_IF_ERROR((*file)->write(offset, std::array<ByteSpan, 1>{ByteSpan(zeros)}));
    CHAT_RETURN_IF_ERROR((*file)->sync());
    CHAT_RETURN_IF_ERROR(fs_.syncDir(dir_));
  }
  if (isLast) {
    writeOffset_ = offset;
  }
  return Status::ok();
}

Status SegmentLog::createFirstSegment() {
  std::string spare = segmentPath(1) + ".tmp";
  CHAT_RETURN_IF_ERROR(prepareSegmentFile(fs_, spare, 1, options_.segmentBytes));
  CHAT_RETURN_IF_ERROR(fs_.rename(spare, segmentPath(1)));
  CHAT_RETURN_IF_ERROR(fs_.syncDir(dir_));
  CHAT_RETURN_IF_ERROR(fs_.syncDir(parentFolder(dir_)));  // the log's folder itself may be new
  segments_.push_back(Segment{1, segmentPath(1), 0});
  auto active = fs_.open(segments_.back().path, OpenMode::kReadWrite);
  if (!active) {
    return active.error();
  }
  active_ = std::move(active).value();
  writeOffset_ = stagedOffset_ = kSegmentHeaderBytes;
  report_.segments = 1;
  return Status::ok();
}

Status SegmentLog::fail(Status s) {
  if (failed_.isOk()) {
    failed_ = Status::ioError("the log failed and accepts nothing more (" + s.message() +
                              "); restart the node to recover from what is on disk");
  }
  return failed_;
}

Status SegmentLog::append(const Entry& entry) {
  CHAT_CHECK(entry.index == lastIndex() + 1);
  if (entry.payload.size() > options_.maxPayloadBytes) {
    return Status::invalidArgument("a log entry of " + std::to_string(entry.payload.size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(options_.maxPayloadBytes));
  }
  CHAT_RETURN_IF_ERROR(stage(static_cast<uint8_t>(format::RecordType::kEntry), entry.epoch,
                             entry.index, entry.payload.bytes()));
  lastIndex_ = entry.index;
  return Status::ok();
}

Status SegmentLog::truncateFrom(uint64_t index) {
  CHAT_CHECK(index >= 1);
  CHAT_RETURN_IF_ERROR(stage(static_cast<uint8_t>(format::RecordType::kTruncate), 0, index, {}));
  lastIndex_ = std::min(lastIndex_, index - 1);
  return Status::ok();
}

Status SegmentLog::stage(uint8_t type, uint64_t epoch, uint64_t index, ByteSpan payload) {
  if (!failed_.isOk()) {
    return failed_;
  }
  size_t size = format::paddedSize(payload.size());
  if (stagedOffset_ + size > options_.segmentBytes) {
    staged_.push_back(Chunk{true, {}, 0});
    stagedOffset_ = kSegmentHeaderBytes;
  } else if (staged_.empty() || staged_.back().bytes.size() + size > format::kMaxGroupBytes) {
    staged_.push_back(Chunk{false, {}, 0});
  }
  Chunk& chunk = staged_.back();
  size_t at = chunk.bytes.size();
  chunk.bytes.resize(at + size);  // zeros: the padding
  uint8_t* r = chunk.bytes.data() + at;
  format::putU32(r + 4, static_cast<uint32_t>(type) << 24 | static_cast<uint32_t>(payload.size()));
  format::putU64(r + 8, epoch);
  format::putU64(r + 16, index);
  if (!payload.empty()) {
    std::memcpy(r + kRecordHeaderBytes, payload.data(), payload.size());
  }
  format::putU32(r, crc32c::mask(crc32c::value({r + 4, kRecordHeaderBytes - 4 + payload.size()})));
  if (type == static_cast<uint8_t>(format::RecordType::kEntry)) {
    chunk.maxIndex = std::max(chunk.maxIndex, index);
  }
  stagedOffset_ += size;
  return Status::ok();
}

Status SegmentLog::sync() {
  if (!failed_.isOk()) {
    return failed_;
  }
  bool unsynced = false;
  for (size_t i = 0; i < staged_.size(); ++i) {
    Chunk& chunk = staged_[i];
    if (chunk.startsSegment) {
      // The full segment is durable before the next one holds anything, so no later entry
      // can survive a crash that loses an earlier one.
      if (unsynced) {
        if (Status s = active_->sync(); !s.isOk()) {
          return fail(s);
        }
        unsynced = false;
      }
      if (Status s = rollOver(); !s.isOk()) {
        return fail(s);
      }
    } else if (unsynced) {
      // The previous chunk filled a group: sync it so that an unsynced region never exceeds
      // one group (what recovery accepts as torn).
      if (Status s = active_->sync(); !s.isOk()) {
        return fail(s);
      }
    }
    if (Status s = active_->write(writeOffset_, std::array<ByteSpan, 1>{ByteSpan(chunk.bytes)});
        !s.isOk()) {
      return fail(s);
    }
    writeOffset_ += chunk.bytes.size();
    segments_.back().maxIndex = std::max(segments_.back().maxIndex, chunk.maxIndex);
    unsynced = true;
  }
  staged_.clear();
  if (unsynced) {
    if (Status s = active_->sync(); !s.isOk()) {
      return fail(s);
    }
  }
  startPreparingSpare();
  return Status::ok();
}

Status SegmentLog::rollOver() {
  uint64_t next = segments_.back().sequence + 1;
  CHAT_RETURN_IF_ERROR(takeSpare(next));
  auto file = fs_.open(segmentPath(next), OpenMode::kReadWrite);
  if (!file) {
    return file.error();
  }
  active_ = std::move(file).value();
  segments_.push_back(Segment{next, segmentPath(next), 0});
  writeOffset_ = kSegmentHeaderBytes;
  return Status::ok();
}

void SegmentLog::startPreparingSpare() {
  if (!options_.prepareInBackground || spareSequence_ != 0 ||
      writeOffset_ < options_.segmentBytes / 2) {
    return;
  }
  spareSequence_ = segments_.back().sequence + 1;
  std::string path = segmentPath(spareSequence_) + ".tmp";
  spareThread_ = std::jthread([this, path, seq = spareSequence_] {
    setThreadName("chat-log-spare");
    Status s = prepareSegmentFile(fs_, path, seq, options_.segmentBytes);
    MutexLock lock(spareMu_);
    spareStatus_ = s;
  });
}

Status SegmentLog::takeSpare(uint64_t sequence) {
  std::string spare = segmentPath(sequence) + ".tmp";
  if (spareSequence_ == sequence) {
    spareThread_.join();
    spareSequence_ = 0;
    Status prepared;
    {
      MutexLock lock(spareMu_);
      prepared = spareStatus_;
    }
    CHAT_RETURN_IF_ERROR(prepared);
  } else {
    CHAT_RETURN_IF_ERROR(prepareSegmentFile(fs_, spare, sequence, options_.segmentBytes));
  }
  CHAT_RETURN_IF_ERROR(fs_.rename(spare, segmentPath(sequence)));
  return fs_.syncDir(dir_);
}

Status SegmentLog::dropThrough(uint64_t index) {
  if (!failed_.isOk()) {
    return failed_;
  }
  start_ = std::max(start_, index);
  bool removed = false;
  while (segments_.size() > 1 && segments_.front().maxIndex <= index) {
    if (Status s = fs_.remove(segments_.front().path); !s.isOk()) {
      return fail(s);
    }
    segments_.pop_front();
    removed = true;
  }
  if (removed) {
    if (Status s = fs_.syncDir(dir_); !s.isOk()) {
      return fail(s);
    }
  }
  return Status::ok();
}

}  // namespace chat::log
