// MemoryFileSystem: the log's FileSystem seam in memory, with the failures a disk and a
// power cut produce (leveldb's FaultInjectionTestEnv). It remembers, per file, what was last
// synced and every write since, and per folder which names were last synced, so a test can
// crash it: drop every unsynced write and every unsynced name, or land the unsynced writes of
// one file with its last write torn at any byte. Any call can be made to fail.
//
// Thread contract: thread-safe (one mutex). Crash it only while no File of it is in use.
#ifndef CHAT_TESTS_FAKES_MEMORY_FILE_SYSTEM_H_
#define CHAT_TESTS_FAKES_MEMORY_FILE_SYSTEM_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "chat/common/mutex.h"
#include "chat/log/file_system.h"

namespace chat::testing {

class MemoryFileSystem final : public log::FileSystem {
 public:
  enum class Call { kOpen, kWrite, kSync, kRename, kRemove, kSyncDir, kTruncate };

  Result<std::unique_ptr<log::File>> open(const std::string& path, log::OpenMode mode) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status syncDir(const std::string& dir) override;
  Status createDir(const std::string& dir) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  Result<std::unique_ptr<log::FileLock>> lock(const std::string& path) override;

  // A power cut: every file loses what was written since its last sync, every folder the
  // names changed since its last syncDir.
  void crashDroppingUnsynced();
  // A power cut during the last write to `path`: its earlier unsynced writes land, the
  // last one only its first `keep` bytes; other files lose their unsynced writes.
  void crashTearingLastWrite(const std::string& path, size_t keep);
  // The number of bytes of the last write to `path` not yet synced (0: none pending).
  size_t lastUnsyncedWriteSize(const std::string& path);
  // The `nth` next call of `call` (1 = the next one) fails with an I/O error.
  void failCall(Call call, int nth);

  // The current contents of a file (empty when missing); for inspection.
  std::vector<uint8_t> contents(const std::string& path);
  // Replaces a file's contents durably, as damage on disk would.
  void setContents(const std::string& path, std::vector<uint8_t> bytes);
  bool exists(const std::string& path);
  // Every path, current names.
  std::vector<std::string> paths();

 private:
  struct Pending {
    bool isTruncate = false;
    uint64_t offset = 0;  // write offset or new size
    std::vector<uint8_t> bytes;
  };
  struct Inode {
    std::vector<uint8_t> data;
    std::vector<uint8_t> synced;
    std::vector<Pending> pending;  // since the last sync, in order
  };
  class MemFile;
  class MemLock;
  friend class MemFile;

  Status injected(Call call) REQUIRES(mu_);
  static void applyPending(std::vector<uint8_t>& data, const Pending& p);

  Mutex mu_;
  std::map<std::string, std::shared_ptr<Inode>> names_ GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Inode>> durableNames_ GUARDED_BY(mu_);
  std::set<std::string> dirs_ GUARDED_BY(mu_);
  std::set<std::string> locks_ GUARDED_BY(mu_);
  std::map<Call, int> failures_ GUARDED_BY(mu_);
};

}  // namespace chat::testing

#endif  // CHAT_TESTS_FAKES_MEMORY_FILE_SYSTEM_H_
