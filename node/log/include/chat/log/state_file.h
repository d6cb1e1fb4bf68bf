// A small file replaced atomically and durably, for state that must survive any crash whole
// (the replication epoch and vote): written to a temporary file, synced, renamed over the
// old one, and the folder synced; a reader sees the old contents or the new, never a mix.
// A checksum catches damage.
//
//   +0 u32 magic "CHST"   +4 u32 payload length   +8 u32 masked CRC32C of the payload
//   +12 payload
//
// Thread contract: functions; one writer per path at a time.
#ifndef CHAT_LOG_STATE_FILE_H_
#define CHAT_LOG_STATE_FILE_H_

#include <optional>
#include <string>
#include <vector>

#include "chat/log/file_system.h"

namespace chat::log {

// Replaces the file at `path` with `payload`, durably. Errors: kIoError.
Status writeStateFile(FileSystem& fs, const std::string& path, ByteSpan payload);

// The payload of the file at `path`; nullopt when there is none.
// Errors: kCorruption (names the file), kIoError.
Result<std::optional<std::vector<uint8_t>>> readStateFile(FileSystem& fs, const std::string& path);

}  // namespace chat::log

#endif  // CHAT_LOG_STATE_FILE_H_
