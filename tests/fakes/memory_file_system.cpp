#include "fakes/memory_file_system.h"

#include <algorithm>

namespace chat::testing {

using log::parentFolder;

class MemoryFileSystem::MemFile final : public log::File {
 public:
  MemFile(MemoryFileSystem& fs, std::shared_ptr<Inode> inode, bool writable)
      : fs_(fs), inode_(std::move(inode)), writable_(writable) {}

  Result<size_t> read(uint64_t offset, std::span<uint8_t> out) override {
    MutexLock lock(fs_.mu_);
    const auto& data = inode_->data;
    if (offset >= data.size()) {
      return size_t{0};
    }
    size_t n = std::min<size_t>(out.size(), data.size() - static_cast<size_t>(offset));
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(offset), n, out.begin());
    return n;
  }

  Status write(uint64_t offset, std::span<const log::ByteSpan> pieces) override {
    MutexLock lock(fs_.mu_);
    CHAT_RETURN_IF_ERROR(fs_.injected(Call::kWrite));
    if (!writable_) {
      return Status::ioError("the file is open read only");
    }
    Pending p;
    p.offset = offset;
    for (const auto& piece : pieces) {
      p.bytes.insert(p.bytes.end(), piece.begin(), piece.end());
    }
    applyPending(inode_->data, p);
    inode_->pending.push_back(std::move(p));
    return Status::ok();
  }

  Status sync() override {
    MutexLock lock(fs_.mu_);
    CHAT_RETURN_IF_ERROR(fs_.injected(Call::kSync));
    inode_->synced = inode_->data;
    inode_->pending.clear();
    return Status::ok();
  }

  Status truncate(uint64_t size) override {
    MutexLock lock(fs_.mu_);
    CHAT_RETURN_IF_ERROR(fs_.injected(Call::kTruncate));
    Pending p;
    p.isTruncate = true;
    p.offset = size;
    applyPending(inode_->data, p);
    inode_->pending.push_back(std::move(p));
    return Status::ok();
  }

  Result<uint64_t> size() override {
    MutexLock lock(fs_.mu_);
    return static_cast<uint64_t>(inode_->data.size());
  }

 private:
  MemoryFileSystem& fs_;
  std::shared_ptr<Inode> inode_;
  const bool writable_;
};

class MemoryFileSystem::MemLock final : public log::FileLock {
 public:
  MemLock(MemoryFileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  ~MemLock() override {
    MutexLock lock(fs_.mu_);
    fs_.locks_.erase(path_);
  }
  MemLock(const MemLock&) = delete;  // holds a lock
  MemLock& operator=(const MemLock&) = delete;

 private:
  MemoryFileSystem& fs_;
  const std::string path_;
};

void MemoryFileSystem::applyPending(std::vector<uint8_t>& data, const Pending& p) {
  if (p.isTruncate) {
    data.resize(static_cast<size_t>(p.offset));
    return;
  }
  size_t end = static_cast<size_t>(p.offset) + p.bytes.size();
  if (data.size() < end) {
    data.resize(end);
  }
  std::copy(p.bytes.begin(), p.bytes.end(), data.begin() + static_cast<std::ptrdiff_t>(p.offset));
}

Status MemoryFileSystem::injected(Call call) {
  auto it = failures_.find(call);
  if (it != failures_.end() && --it->second == 0) {
    failures_.erase(it);
    return Status::ioError("injected I/O error");
  }
  return Status::ok();
}

void MemoryFileSystem::failCall(Call call, int nth) {
  MutexLock lock(mu_);
  failures_[call] = nth;
}

Result<std::unique_ptr<log::File>> MemoryFileSystem::open(const std::string& path,
                                                          log::OpenMode mode) {
  MutexLock lock(mu_);
  CHAT_RETURN_IF_ERROR(injected(Call::kOpen));
  if (!dirs_.contains(parentFolder(path))) {
    return Status::ioError("cannot open " + path + ": no such folder");
  }
  auto it = names_.find(path);
  if (mode == log::OpenMode::kCreateExclusive) {
    if (it != names_.end()) {
      return Status::ioError("cannot create " + path + ": it exists");
    }
    auto inode = std::make_shared<Inode>();
    names_[path] = inode;
    return std::unique_ptr<log::File>(new MemFile(*this, inode, true));
  }
  if (it == names_.end()) {
    return Status::notFound(path + " does not exist");
  }
  return std::unique_ptr<log::File>(new MemFile(*this, it->second, mode != log::OpenMode::kRead));
}

Status MemoryFileSystem::rename(const std::string& from, const std::string& to) {
  MutexLock lock(mu_);
  CHAT_RETURN_IF_ERROR(injected(Call::kRename));
  auto it = names_.find(from);
  if (it == names_.end()) {
    return Status::ioError("cannot rename " + from + ": it does not exist");
  }
  names_[to] = it->second;
  names_.erase(from);
  return Status::ok();
}

Status MemoryFileSystem::remove(const std::string& path) {
  MutexLock lock(mu_);
  CHAT_RETURN_IF_ERROR(injected(Call::kRemove));
  names_.erase(path);
  return Status::ok();
}

Status MemoryFileSystem::syncDir(const std::string& dir) {
  MutexLock lock(mu_);
  CHAT_RETURN_IF_ERROR(injected(Call::kSyncDir));
  std::erase_if(durableNames_, [&](const auto& e) { return parentFolder(e.first) == dir; });
  for (const auto& [path, inode] : names_) {
    if (parentFolder(path) == dir) {
      durableNames_[path] = inode;
    }
  }
  return Status::ok();
}

Status MemoryFileSystem::createDir(const std::string& dir) {
  MutexLock lock(mu_);
  // Folders are durable at once here; the log syncs its parent anyway.
  for (std::string d = dir; !d.empty() && d != "." && d != "/"; d = parentFolder(d)) {
    dirs_.insert(d);
  }
  return Status::ok();
}

Result<std::vector<std::string>> MemoryFileSystem::list(const std::string& dir) {
  MutexLock lock(mu_);
  if (!dirs_.contains(dir)) {
    return Status::ioError("cannot list " + dir + ": no such folder");
  }
  std::vector<std::string> out;
  for (const auto& [path, inode] : names_) {
    if (parentFolder(path) == dir) {
      out.push_back(path.substr(dir.size() + 1));
    }
  }
  return out;
}

Result<std::unique_ptr<log::FileLock>> MemoryFileSystem::lock(const std::string& path) {
  MutexLock lock(mu_);
  if (!locks_.insert(path).second) {
    return Status::unavailable(path + " is locked by another user");
  }
  return std::unique_ptr<log::FileLock>(new MemLock(*this, path));
}

void MemoryFileSystem::crashDroppingUnsynced() {
  MutexLock lock(mu_);
  names_ = durableNames_;
  for (auto& [path, inode] : names_) {
    inode->data = inode->synced;
    inode->pending.clear();
  }
}

void MemoryFileSystem::crashTearingLastWrite(const std::string& path, size_t keep) {
  MutexLock lock(mu_);
  auto torn = names_.find(path);
  std::shared_ptr<Inode> tornInode = torn != names_.end() ? torn->second : nullptr;
  names_ = durableNames_;
  for (auto& [p, inode] : names_) {
    if (inode == tornInode && !inode->pending.empty()) {
      std::vector<uint8_t> data = inode->synced;
      for (size_t i = 0; i + 1 < inode->pending.size(); ++i) {
        applyPending(data, inode->pending[i]);
      }
      Pending last = inode->pending.back();
      if (!last.isTruncate) {
        last.bytes.resize(std::min(keep, last.bytes.size()));
        applyPending(data, last);
      }
      inode->data = data;
      inode->synced = data;  // what landed is on disk now
    } else {
      inode->data = inode->synced;
    }
    inode->pending.clear();
  }
}

size_t MemoryFileSystem::lastUnsyncedWriteSize(const std::string& path) {
  MutexLock lock(mu_);
  auto it = names_.find(path);
  if (it == names_.end() || it->second->pending.empty()) {
    return 0;
  }
  return it->second->pending.back().bytes.size();
}

std::vector<uint8_t> MemoryFileSystem::contents(const std::string& path) {
  MutexLock lock(mu_);
  auto it = names_.find(path);
  return it == names_.end() ? std::vector<uint8_t>() : it->second->data;
}

void MemoryFileSystem::setContents(const std::string& path, std::vector<uint8_t> bytes) {
  MutexLock lock(mu_);
  auto it = names_.find(path);
  if (it == names_.end()) {
    it = names_.emplace(path, std::make_shared<Inode>()).first;
    durableNames_[path] = it->second;
  }
  it->second->data = bytes;
  it->second->synced = std::move(bytes);
  it->second->pending.clear();
}

bool MemoryFileSystem::exists(const std::string& path) {
  MutexLock lock(mu_);
  return names_.contains(path);
}

std::vector<std::string> MemoryFileSystem::paths() {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [path, inode] : names_) {
    out.push_back(path);
  }
  return out;
}

}  // namespace chat::testing
