// The log keeps every synced entry through any crash, never returns damaged or torn data as
// an entry, refuses damage in the middle with the file and offset, and drops segments only
// past a snapshot. Crashes and damage come from MemoryFileSystem; one test runs on the disk.
#include "chat/log/segment_log.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "chat/log/crc32c.h"
#include "chat/log/state_file.h"
#include "fakes/memory_file_system.h"
#include "support/temp_dir.h"

namespace chat::log {
namespace {

using testing::MemoryFileSystem;

constexpr const char* kDir = "/data/log";

LogOptions smallSegments() {
  LogOptions o;
  o.segmentBytes = 16 * 1024;
  o.maxPayloadBytes = 4 * 1024;
  o.prepareInBackground = false;
  return o;
}

Entry entry(uint64_t epoch, uint64_t index, size_t size = 40) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < size; ++i) {
    bytes.push_back(static_cast<uint8_t>((index * 31 + i * 7) % 251 + 1));
  }
  return Entry{epoch, index, std::move(bytes)};
}

std::unique_ptr<SegmentLog> openLog(FileSystem& fs, uint64_t startAfter = 0,
                                    LogOptions options = smallSegments()) {
  auto log = SegmentLog::open(fs, kDir, options, startAfter);
  EXPECT_TRUE(log.has_value()) << log.error().toString();
  return log ? std::move(log).value() : nullptr;
}

void appendRange(SegmentLog& log, uint64_t from, uint64_t to, uint64_t epoch = 1,
                 size_t size = 40) {
  for (uint64_t i = from; i <= to; ++i) {
    ASSERT_TRUE(log.append(entry(epoch, i, size)).isOk());
  }
}

// Appended, not std::string(kDir) + "...": GCC 12 warns falsely (-Warray-bounds) on that.
std::string firstSegment() {
  std::string path = kDir;
  path.append("/0000000000000001.seg");
  return path;
}

TEST(Crc32cTest, MatchesTheCastagnoliCheckValues) {
  std::string digits = "123456789";
  EXPECT_EQ(crc32c::value({reinterpret_cast<const uint8_t*>(digits.data()), digits.size()}),
            0xe3069283U);
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c::value(zeros), 0x8a9136aaU);
  std::vector<uint8_t> ones(32, 0xff);
  EXPECT_EQ(crc32c::value(ones), 0x62a8ab43U);
  // Extending piecewise gives the CRC of the whole.
  EXPECT_EQ(crc32c::extend(crc32c::value({ones.data(), 5}), {ones.data() + 5, 27}), 0x62a8ab43U);
  EXPECT_EQ(crc32c::unmask(crc32c::mask(0x12345678U)), 0x12345678U);
  EXPECT_NE(crc32c::mask(0x12345678U), 0x12345678U);
}

TEST(SegmentLogTest, KeepsSyncedEntriesAcrossReopen) {
  MemoryFileSystem fs;
  {
    auto log = openLog(fs);
    appendRange(*log, 1, 20);
    ASSERT_TRUE(log->sync().isOk());
    EXPECT_EQ(log->lastIndex(), 20u);
  }
  auto log = openLog(fs);
  auto entries = log->takeRecovered();
  ASSERT_EQ(entries.size(), 20u);
  for (uint64_t i = 1; i <= 20; ++i) {
    EXPECT_EQ(entries[i - 1], entry(1, i));
  }
  EXPECT_EQ(log->lastIndex(), 20u);
  appendRange(*log, 21, 22);  // appends go on after the recovered ones
  ASSERT_TRUE(log->sync().isOk());
}

TEST(SegmentLogTest, RollsOverSegmentsAndDropsOnlyWhatASnapshotCovers) {
  MemoryFileSystem fs;
  {
    auto log = openLog(fs);
    appendRange(*log, 1, 300, 1, 200);  // about 70 KB: five segments of 16 KiB
    ASSERT_TRUE(log->sync().isOk());
    EXPECT_GE(log->segmentCount(), 4u);
    size_t before = log->segmentCount();
    ASSERT_TRUE(log->dropThrough(150).isOk());
    EXPECT_LT(log->segmentCount(), before);
    EXPECT_GE(log->segmentCount(), 2u);
  }
  auto log = openLog(fs, 150);
  auto entries = log->takeRecovered();
  ASSERT_EQ(entries.size(), 150u);
  EXPECT_EQ(entries.front().index, 151u);
  EXPECT_EQ(entries.back(), entry(1, 300, 200));
}

TEST(SegmentLogTest, ARecordNeverSpansTwoSegmentsAndBigRecordsFit) {
  MemoryFileSystem fs;
  {
    auto log = openLog(fs);
    appendRange(*log, 1, 10, 1, 4 * 1024);  // each record nearly a quarter of a segment
    ASSERT_TRUE(log->sync().isOk());
    Entry tooBig = entry(1, 11, 4 * 1024 + 1);
    EXPECT_EQ(log->append(tooBig).code(), StatusCode::kInvalidArgument);
  }
  auto log = openLog(fs);
  EXPECT_EQ(log->takeRecovered().size(), 10u);
}

TEST(SegmentLogTest, TruncatedSuffixStaysTruncatedAfterReopen) {
  MemoryFileSystem fs;
  {
    auto log = openLog(fs);
    appendRange(*log, 1, 10);
    ASSERT_TRUE(log->sync().isOk());
    ASSERT_TRUE(log->truncateFrom(6).isOk());
    EXPECT_EQ(log->lastIndex(), 5u);
    appendRange(*log, 6, 8, 2);  // a new leader's entries replace the divergent suffix
    ASSERT_TRUE(log->sync().isOk());
  }
  auto log = openLog(fs);
  auto entries = log->takeRecovered();
  ASSERT_EQ(entries.size(), 8u);
  EXPECT_EQ(entries[4], entry(1, 5));
  EXPECT_EQ(entries[5], entry(2, 6));
  EXPECT_EQ(entries[7], entry(2, 8));
}

TEST(SegmentLogTest, AfterASnapshotReplacesTheLogEntriesContinueFromTheSnapshot) {
  MemoryFileSystem fs;
  {
    auto log = openLog(fs);
    appendRange(*log, 1, 5);
    ASSERT_TRUE(log->sync().isOk());
    ASSERT_TRUE(log->truncateFrom(1).isOk());  // the whole log conflicts with the snapshot
    ASSERT_TRUE(log->dropThrough(100).isOk());
    EXPECT_EQ(log->lastIndex(), 100u);
    appendRange(*log, 101, 103, 3);
    ASSERT_TRUE(log->sync().isOk());
  }
  auto log = openLog(fs, 100);
  auto entries = log->takeRecovered();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0], entry(3, 101));
}

TEST(SegmentLogTest, ACrashLosesExactlyTheUnsyncedEntries) {
  MemoryFileSystem fs;
  {
    auto log = openLog(fs);
    appendRange(*log, 1, 5);
    ASSERT_TRUE(log->sync().isOk());
    appendRange(*log, 6, 9);
    fs.failCall(MemoryFileSystem::Call::kSync, 1);  // the power goes during the fdatasync
    EXPECT_FALSE(log->sync().isOk());
  }
  fs.crashDroppingUnsynced();
  auto log = openLog(fs);
  auto entries = log->takeRecovered();
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries.back(), entry(1, 5));
  EXPECT_EQ(log->recovery().tornBytes, 0u);  // nothing of the lost write reached the file
}

// The last write torn at every byte: every synced entry survives, what survives of the torn
// write is a prefix of whole entries, nothing after the tear is returned, and the log takes
// appends again without mixing them with the torn bytes.
TEST(SegmentLogTest, SurvivesTheLastWriteTornAtEveryByte) {
  size_t writeSize = 0;
  {
    MemoryFileSystem fs;
    auto log = openLog(fs);
    appendRange(*log, 1, 3);
    ASSERT_TRUE(log->sync().isOk());
    appendRange(*log, 4, 9, 1, 57);
    fs.failCall(MemoryFileSystem::Call::kSync, 1);
    EXPECT_FALSE(log->sync().isOk());
    writeSize = fs.lastUnsyncedWriteSize(firstSegment());
  }
  ASSERT_GT(writeSize, 300u);
  for (size_t keep = 0; keep <= writeSize; ++keep) {
    SCOPED_TRACE("torn after " + std::to_string(keep) + " bytes");
    MemoryFileSystem fs;
    {
      auto log = openLog(fs);
      appendRange(*log, 1, 3);
      ASSERT_TRUE(log->sync().isOk());
      appendRange(*log, 4, 9, 1, 57);
      fs.failCall(MemoryFileSystem::Call::kSync, 1);
      EXPECT_FALSE(log->sync().isOk());
      EXPECT_FALSE(log->append(entry(1, 10)).isOk());  // the failure is sticky
    }
    fs.crashTearingLastWrite(firstSegment(), keep);
    uint64_t survived = 0;
    {
      auto log = openLog(fs);
      ASSERT_NE(log, nullptr);
      auto entries = log->takeRecovered();
      ASSERT_GE(entries.size(), 3u);
      for (size_t i = 0; i < entries.size(); ++i) {
        EXPECT_EQ(entries[i], entry(1, i + 1, i < 3 ? 40 : 57));
      }
      survived = entries.size();
      EXPECT_EQ(log->lastIndex(), survived);
      ASSERT_TRUE(log->append(entry(2, survived + 1)).isOk());
      ASSERT_TRUE(log->sync().isOk());
    }
    auto log = openLog(fs);
    auto entries = log->takeRecovered();
    ASSERT_EQ(entries.size(), survived + 1);
    EXPECT_EQ(entries.back(), entry(2, survived + 1));
  }
}

// The page cache may write a later page of an unsynced write before an earlier one: the gap
// is a zero sector, and the valid records after it belong to the same torn write.
TEST(SegmentLogTest, AWriteTornOutOfOrderIsATornTailNotDamage) {
  MemoryFileSystem fs;
  {
    auto log = openLog(fs);
    appendRange(*log, 1, 3);
    ASSERT_TRUE(log->sync().isOk());
    appendRange(*log, 4, 20, 1, 300);  // several sectors
    fs.failCall(MemoryFileSystem::Call::kSync, 1);
    EXPECT_FALSE(log->sync().isOk());
  }
  std::vector<uint8_t> bytes = fs.contents(firstSegment());
  // Records 1..3 are 64 bytes each after the 32-byte header: the unsynced write starts at
  // 224; its first sector on a sector boundary, 512..1023, never reached the disk.
  std::fill(bytes.begin() + 512, bytes.begin() + 1024, 0);
  fs.setContents(firstSegment(), bytes);
  auto log = openLog(fs);
  ASSERT_NE(log, nullptr);
  auto entries = log->takeRecovered();
  ASSERT_GE(entries.size(), 3u);
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].index, i + 1);
  }
  EXPECT_LT(entries.size(), 20u);
  EXPECT_GT(log->recovery().tornBytes, 0u);
  EXPECT_TRUE(fs.exists(firstSegment() + ".torn-" + std::to_string(log->recovery().tornOffset)));
}

// A flipped bit anywhere in what was synced is never returned as data: the log either
// refuses to open (naming the file and offset) or, for the very last record, cuts it off.
TEST(SegmentLogTest, DetectsABitFlipAtEveryCommittedByte) {
  MemoryFileSystem pristine;
  uint64_t end = 0;
  {
    auto log = openLog(pristine);
    appendRange(*log, 1, 6, 1, 21);
    ASSERT_TRUE(log->sync().isOk());
  }
  std::vector<uint8_t> original = pristine.contents(firstSegment());
  end = 32 + 6 * 48;  // header, then six records of 24 + 21 bytes padded to 48
  ASSERT_EQ(original[end], 0);
  ASSERT_NE(original[end - 8], 0);
  int refused = 0;
  for (uint64_t at = 0; at < end; ++at) {
    if (at >= 32 && (at - 32) % 48 >= 45) {
      continue;  // padding: not part of any record's checksum, and not data
    }
    SCOPED_TRACE("bit flipped at byte " + std::to_string(at));
    MemoryFileSystem fs;
    ASSERT_TRUE(fs.createDir(kDir).isOk());
    std::vector<uint8_t> damaged = original;
    damaged[at] ^= 0x10;
    fs.setContents(firstSegment(), damaged);
    auto log = SegmentLog::open(fs, kDir, smallSegments(), 0);
    if (!log) {
      EXPECT_EQ(log.error().code(), StatusCode::kCorruption);
      EXPECT_NE(log.error().message().find(firstSegment()), std::string::npos);
      EXPECT_NE(log.error().message().find("offset"), std::string::npos);
      ++refused;
      continue;
    }
    auto entries = (*log)->takeRecovered();
    // Only damage to the last record may open, by cutting that record off.
    EXPECT_GE(at, 32u + 5 * 48);
    ASSERT_EQ(entries.size(), 5u);
    for (size_t i = 0; i < entries.size(); ++i) {
      EXPECT_EQ(entries[i], entry(1, i + 1, 21));
    }
  }
  EXPECT_EQ(refused, 32 + 5 * 45);  // the header and every record before the last
}

TEST(SegmentLogTest, RefusesALogWithAMissingSegment) {
  MemoryFileSystem fs;
  {
    auto log = openLog(fs);
    appendRange(*log, 1, 300, 1, 200);
    ASSERT_TRUE(log->sync().isOk());
    ASSERT_GE(log->segmentCount(), 3u);
  }
  std::string second = std::string(kDir) + "/0000000000000002.seg";
  ASSERT_TRUE(fs.remove(second).isOk());
  auto log = SegmentLog::open(fs, kDir, smallSegments(), 0);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code(), StatusCode::kCorruption);
  EXPECT_NE(log.error().message().find("0000000000000002.seg"), std::string::npos);
}

TEST(SegmentLogTest, ASecondOpenOfTheSameFolderIsRefused) {
  MemoryFileSystem fs;
  auto first = openLog(fs);
  auto second = SegmentLog::open(fs, kDir, smallSegments(), 0);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kUnavailable);
}

TEST(SegmentLogTest, AFailedWriteIsStickyAndNothingOfItIsKept) {
  MemoryFileSystem fs;
  {
    auto log = openLog(fs);
    appendRange(*log, 1, 2);
    ASSERT_TRUE(log->sync().isOk());
    appendRange(*log, 3, 4);
    fs.failCall(MemoryFileSystem::Call::kWrite, 1);
    EXPECT_FALSE(log->sync().isOk());
    EXPECT_FALSE(log->sync().isOk());
    EXPECT_FALSE(log->failure().isOk());
  }
  fs.crashDroppingUnsynced();
  auto log = openLog(fs);
  EXPECT_EQ(log->takeRecovered().size(), 2u);
}

TEST(SegmentLogTest, ASegmentPreparedInTheBackgroundIsUsedAndLeftoversRemoved) {
  MemoryFileSystem fs;
  LogOptions options = smallSegments();
  options.prepareInBackground = true;
  {
    auto log = openLog(fs, 0, options);
    for (uint64_t i = 1; i <= 400; i += 20) {
      appendRange(*log, i, i + 19, 1, 200);
      ASSERT_TRUE(log->sync().isOk());
    }
  }
  // A spare prepared but never put in use is removed at the next open.
  auto spares = [&fs] {
    int n = 0;
    for (const auto& p : fs.paths()) {
      n += p.ends_with(".seg.tmp") ? 1 : 0;
    }
    return n;
  };
  EXPECT_LE(spares(), 1);
  fs.setContents(std::string(kDir) + "/0000000000000063.seg.tmp", {1, 2, 3});
  auto log = openLog(fs, 0, options);
  EXPECT_FALSE(fs.exists(std::string(kDir) + "/0000000000000063.seg.tmp"));
  EXPECT_EQ(log->takeRecovered().size(), 400u);
  EXPECT_LE(spares(), 1);  // perhaps a new one, being prepared again
}

TEST(StateFileTest, ReplacesItsContentsWholeAndDetectsDamage) {
  MemoryFileSystem fs;
  ASSERT_TRUE(fs.createDir("/data").isOk());
  auto missing = readStateFile(fs, "/data/state");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
  std::vector<uint8_t> first{1, 2, 3};
  std::vector<uint8_t> second{4, 5, 6, 7};
  ASSERT_TRUE(writeStateFile(fs, "/data/state", first).isOk());
  ASSERT_TRUE(writeStateFile(fs, "/data/state", second).isOk());
  fs.crashDroppingUnsynced();  // both writes completed: the second is what stays
  auto read = readStateFile(fs, "/data/state");
  ASSERT_TRUE(read.has_value() && read->has_value());
  EXPECT_EQ(**read, second);
  std::vector<uint8_t> bytes = fs.contents("/data/state");
  bytes.back() ^= 1;
  fs.setContents("/data/state", bytes);
  auto damaged = readStateFile(fs, "/data/state");
  ASSERT_FALSE(damaged.has_value());
  EXPECT_EQ(damaged.error().code(), StatusCode::kCorruption);
}

TEST(StateFileTest, AFailedReplacementLeavesTheOldContents) {
  MemoryFileSystem fs;
  ASSERT_TRUE(fs.createDir("/data").isOk());
  std::vector<uint8_t> first{1, 2, 3};
  ASSERT_TRUE(writeStateFile(fs, "/data/state", first).isOk());
  fs.failCall(MemoryFileSystem::Call::kRename, 1);
  std::vector<uint8_t> second{9};
  EXPECT_FALSE(writeStateFile(fs, "/data/state", second).isOk());
  fs.crashDroppingUnsynced();
  auto read = readStateFile(fs, "/data/state");
  ASSERT_TRUE(read.has_value() && read->has_value());
  EXPECT_EQ(**read, first);
}

// On the real disk: segments are preallocated, so appends never change a file's size.
TEST(SegmentLogTest, OnDiskAppendsChangeNoFileSize) {
  chat::testing::TempDir dir;
  LogOptions options;
  options.segmentBytes = 8U << 20;
  options.maxPayloadBytes = 64 * 1024;
  options.prepareInBackground = false;
  std::string logDir = dir.path() + "/log";
  std::string segment = logDir + "/0000000000000001.seg";
  {
    auto log = SegmentLog::open(posixFileSystem(), logDir, options, 0);
    ASSERT_TRUE(log.has_value()) << log.error().toString();
    struct stat before {};
    ASSERT_EQ(::stat(segment.c_str(), &before), 0);
    EXPECT_EQ(static_cast<uint64_t>(before.st_size), options.segmentBytes);
    EXPECT_EQ(before.st_mode & 0777, 0600u);
    for (uint64_t i = 1; i <= 100; ++i) {
      ASSERT_TRUE((*log)->append(entry(1, i, 100)).isOk());
    }
    ASSERT_TRUE((*log)->sync().isOk());
    struct stat after {};
    ASSERT_EQ(::stat(segment.c_str(), &after), 0);
    EXPECT_EQ(after.st_size, before.st_size);
  }
  auto log = SegmentLog::open(posixFileSystem(), logDir, options, 0);
  ASSERT_TRUE(log.has_value()) << log.error().toString();
  EXPECT_EQ((*log)->takeRecovered().size(), 100u);
}

}  // namespace
}  // namespace chat::log
