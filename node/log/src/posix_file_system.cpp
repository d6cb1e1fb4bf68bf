#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "chat/log/file_system.h"

namespace chat::log {
namespace {

Status errnoStatus(const std::string& what, int err) {
  return Status::ioError(what + ": " + std::strerror(err));
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;  // owns a descriptor
  PosixFile& operator=(const PosixFile&) = delete;

  Result<size_t> read(uint64_t offset, std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return errnoStatus("reading " + path_, errno);
      }
      if (n == 0) {
        break;
      }
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status write(uint64_t offset, std::span<const ByteSpan> pieces) override {
    // pwritev may write less than asked (and takes at most IOV_MAX pieces): go on from
    // where it stopped.
    std::vector<iovec> iov;
    iov.reserve(pieces.size());
    for (const auto& p : pieces) {
      if (!p.empty()) {
        iov.push_back(iovec{const_cast<uint8_t*>(p.data()), p.size()});
      }
    }
    size_t first = 0;
    while (first < iov.size()) {
      int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
      ssize_t n = ::pwritev(fd_, iov.data() + first, count, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return errnoStatus("writing " + path_, errno);
      }
      offset += static_cast<uint64_t>(n);
      auto left = static_cast<size_t>(n);
      while (first < iov.size() && left >= iov[first].iov_len) {
        left -= iov[first].iov_len;
        ++first;
      }
      if (left > 0) {
        iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
      }
    }
    return Status::ok();
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) {
      return errnoStatus("fdatasync of " + path_, errno);
    }
    return Status::ok();
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return errnoStatus("resizing " + path_, errno);
    }
    return Status::ok();
  }

  Result<uint64_t> size() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      return errnoStatus("stat of " + path_, errno);
    }
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  const int fd_;
  const std::string path_;
};

class PosixLock final : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override { ::close(fd_); }  // closing releases the flock
  PosixLock(const PosixLock&) = delete;    // owns a descriptor
  PosixLock& operator=(const PosixLock&) = delete;

 private:
  const int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kRead:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kCreateExclusive:
        flags |= O_RDWR | O_CREAT | O_EXCL;
        break;
    }
    int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0) {
      if (errno == ENOENT && mode != OpenMode::kCreateExclusive) {
        return Status::notFound(path + " does not exist");
      }
      return errnoStatus("cannot open " + path, errno);
    }
    return std::unique_ptr<File>(new PosixFile(fd, path));
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return errnoStatus("cannot rename " + from + " to " + to, errno);
    }
    return Status::ok();
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return errnoStatus("cannot remove " + path, errno);
    }
    return Status::ok();
  }

  Status syncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return errnoStatus("cannot open the folder " + dir, errno);
    }
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
      return errnoStatus("fsync of the folder " + dir, err);
    }
    return Status::ok();
  }

  Status createDir(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return Status::ioError("cannot create the folder " + dir + ": " + ec.message());
    }
    return Status::ok();
  }

  Result<std::vector<std::string>> list(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      return errnoStatus("cannot list " + dir, errno);
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") {
        names.push_back(std::move(name));
      }
    }
    ::closedir(d);
    return names;
  }

  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return errnoStatus("cannot open the lock file " + path, errno);
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status::unavailable(path + " is locked by another process (is another chat-node "
                                          "running on this data folder?)");
      }
      return errnoStatus("cannot lock " + path, err);
    }
    return std::unique_ptr<FileLock>(new PosixLock(fd));
  }
};

}  // namespace

FileSystem& posixFileSystem() {
  static PosixFileSystem fs;
  return fs;
}

std::string parentFolder(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : slash == 0 ? "/" : path.substr(0, slash);
}

Result<std::vector<uint8_t>> readWholeFile(FileSystem& fs, const std::string& path) {
  auto file = fs.open(path, OpenMode::kRead);
  if (!file) {
    return file.error();
  }
  auto size = (*file)->size();
  if (!size) {
    return size.error();
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(*size));
  auto n = (*file)->read(0, bytes);
  if (!n) {
    return n.error();
  }
  bytes.resize(*n);
  return bytes;
}

}  // namespace chat::log
