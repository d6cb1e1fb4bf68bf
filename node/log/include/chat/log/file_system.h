// FileSystem: every file access of the log goes through this seam (leveldb's Env), so that
// tests can run the log over a file system that drops unsynced writes, tears the last one
// at any byte, or fails a chosen call (tests/fakes/memory_file_system.h). The node uses
// posixFileSystem(): pwritev, fdatasync, rename and a directory fsync, nothing cached.
//
// Durability contract, as POSIX gives it and the fake enforces it: a write is durable only
// after sync() of its file returned ok; a created, renamed or removed name is durable only
// after syncDir() of its folder returned ok. After a failed sync() nothing written since the
// last successful one may be assumed durable (fsyncgate), so callers treat it as fatal.
//
// Thread contract: a FileSystem may be used from several threads at once; a File from one
// thread at a time.
#ifndef CHAT_LOG_FILE_SYSTEM_H_
#define CHAT_LOG_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "chat/common/status.h"

namespace chat::log {

using ByteSpan = std::span<const uint8_t>;

// An open file, read and written at explicit offsets.
class File {
 public:
  virtual ~File() = default;
  // Reads up to out.size() bytes at `offset`; fewer only at the end of the file.
  virtual Result<size_t> read(uint64_t offset, std::span<uint8_t> out) = 0;
  // Writes the pieces back to back at `offset` (one pwritev). Errors: kIoError.
  virtual Status write(uint64_t offset, std::span<const ByteSpan> pieces) = 0;
  // Makes the file's data durable (fdatasync). Errors: kIoError, and then the file's state
  // on disk is unknown.
  virtual Status sync() = 0;
  // Sets the file's size, cutting or extending with zeros.
  virtual Status truncate(uint64_t size) = 0;
  virtual Result<uint64_t> size() = 0;
};

enum class OpenMode {
  kRead,            // an existing file, read only
  kReadWrite,       // an existing file
  kCreateExclusive  // a new file; fails when the name exists
};

// A held lock on a file (flock); released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Errors: kNotFound when the file does not exist (kRead, kReadWrite), kIoError otherwise.
  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  // Replaces `to` with `from` atomically (rename(2)).
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Makes the names in `dir` durable (fsync of the folder).
  virtual Status syncDir(const std::string& dir) = 0;
  // Creates `dir` and its parents, private to the owner (0700); ok when it exists.
  virtual Status createDir(const std::string& dir) = 0;
  // The names (not paths) of the entries of `dir`, in no particular order.
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  // An exclusive lock on `path` (created if missing). Errors: kUnavailable when another
  // process holds it.
  virtual Result<std::unique_ptr<FileLock>> lock(const std::string& path) = 0;
};

// The real file system. Files are created 0600. Lives for the whole process.
FileSystem& posixFileSystem();

// The folder of `path` ("." for a bare name, "/" for a file in the root).
std::string parentFolder(const std::string& path);

// Reads the whole file at `path`. Errors: those of open() and read().
Result<std::vector<uint8_t>> readWholeFile(FileSystem& fs, const std::string& path);

}  // namespace chat::log

#endif  // CHAT_LOG_FILE_SYSTEM_H_
