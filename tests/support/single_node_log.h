// SingleNodeLog: the commit log of a node without a cluster (a cluster of one), over a
// given store, with its log in memory and no peers; what chat-node runs, minus the disk.
#ifndef CHAT_TESTS_SUPPORT_SINGLE_NODE_LOG_H_
#define CHAT_TESTS_SUPPORT_SINGLE_NODE_LOG_H_

#include <memory>

#include "chat/common/clock.h"
#include "chat/replication/peer_transport.h"
#include "chat/replication/raft_storage.h"
#include "chat/replication/replicated_commit_log.h"

namespace chat::testing {

struct SingleNodeLog {
  // `store` must outlive this. `raftStorage` defaults to one in memory.
  explicit SingleNodeLog(storage::MessageStore& store,
                         replication::RaftStorage* raftStorage = nullptr,
                         replication::ReplicatedLogOptions options = defaults()) {
    auto opened = replication::ReplicatedCommitLog::open(
        options, store, raftStorage != nullptr ? *raftStorage : memory, transport, clock);
    CHAT_CHECK(opened.has_value());
    log = std::move(opened).value();
  }
  static replication::ReplicatedLogOptions defaults() {
    replication::ReplicatedLogOptions o;
    o.raft.self = 1;
    o.raft.members = {1};
    return o;
  }
  replication::InMemoryRaftStorage memory;
  replication::NoPeerTransport transport;
  SystemClock clock;
  std::unique_ptr<replication::ReplicatedCommitLog> log;
};

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_SINGLE_NODE_LOG_H_
