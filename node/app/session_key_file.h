// The session-token key of a standalone node, kept in its data folder so that tokens survive
// a restart. (A cluster derives its key from the cluster secret instead.)
#ifndef CHAT_NODE_SESSION_KEY_FILE_H_
#define CHAT_NODE_SESSION_KEY_FILE_H_

#include <string>

#include "chat/common/status.h"
#include "chat/service/session_tokens.h"

namespace chat::node {

// Reads the key at `path`, or creates it (mode 0600, written to a temporary file and renamed)
// when there is none. kCorruption for a file of the wrong size; kIoError when it cannot be
// read or written.
Result<service::SessionKey> loadOrCreateSessionKey(const std::string& path);

}  // namespace chat::node

#endif  // CHAT_NODE_SESSION_KEY_FILE_H_
