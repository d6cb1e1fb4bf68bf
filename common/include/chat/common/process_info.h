// Facts about the running process that servers and tools report: resident memory, and the
// open-file limit, which must be raised for thousands of connections.
// Thread contract: thread-safe.
#ifndef CHAT_COMMON_PROCESS_INFO_H_
#define CHAT_COMMON_PROCESS_INFO_H_

#include <cstdint>

namespace chat {

// Resident set size of this process in bytes (0 when /proc is unavailable).
uint64_t residentBytes();
// Raises the soft limit on open files to the hard limit; returns the new soft limit.
uint64_t raiseOpenFileLimit();
// Names the calling thread (at most 15 characters show), for top -H, perf and gdb.
void setThreadName(const char* name);
// Makes every file and folder this process creates from now on its user's only (umask 077):
// chat.db, the log, snapshots, logs, the control socket and secrets hold messages and
// password hashes. Every program of the suite calls it first thing in main().
void keepNewFilesPrivate();

}  // namespace chat

#endif  // CHAT_COMMON_PROCESS_INFO_H_
