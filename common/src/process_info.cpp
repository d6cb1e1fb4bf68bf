#include "chat/common/process_info.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace chat {

uint64_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  uint64_t resident = 0;
  if (!(statm >> pages >> resident)) {
    return 0;
  }
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

uint64_t raiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 0;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

void setThreadName(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

}  // namespace chat

namespace chat {

void keepNewFilesPrivate() {
  ::umask(077);
}

}  // namespace chat
