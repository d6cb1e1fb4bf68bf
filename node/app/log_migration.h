// Moving a data folder of an older chat-node to the log (issue #13): older versions kept the
// replication log and hard state in raft.db (SQLite), and a node without a cluster committed
// straight into chat.db. Both now write the log in DATA/log and the hard state in
// DATA/raft-state.
//
// Thread contract: called once at start, before anything else opens the folder.
#ifndef CHAT_NODE_APP_LOG_MIGRATION_H_
#define CHAT_NODE_APP_LOG_MIGRATION_H_

#include <string>

#include "chat/common/status.h"
#include "chat/replication/raft_core.h"

namespace chat::node {

// What prepareLogFolder did, for the node's log.
enum class LogFolderState { kExisting, kNew, kMigratedFromRaftDb };

// Makes sure `dataDir` holds the log's state file. A folder with raft.db of an older version
// gets its log and hard state copied into the new files (in a temporary folder first, the
// state file moved in last, so a crash halfway leaves raft.db in charge and the next start
// does it again), and raft.db renamed to raft.db.migrated. A folder with neither starts its
// log at `chatDbPosition`, the position its chat.db has applied. Errors: kIoError,
// kCorruption (raft.db unreadable: says what to do).
Result<LogFolderState> prepareLogFolder(const std::string& dataDir,
                                        replication::SnapshotMeta chatDbPosition);

}  // namespace chat::node

#endif  // CHAT_NODE_APP_LOG_MIGRATION_H_
