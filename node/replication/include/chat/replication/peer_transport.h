// PeerTransport: how a node's replication reaches its peers. The replication log hands it
// envelopes to send and receives peers' envelopes through the handler it registers.
// Implementations: LocalTransportHub (in-process, for tests and the simulation of a whole
// node) and, for chat-node, one over Poco sockets with an HMAC handshake (issue #3).
// Thread contract: send() is thread-safe and never blocks on the network; the handler is
// called on a transport thread and must not block.
#ifndef CHAT_REPLICATION_PEER_TRANSPORT_H_
#define CHAT_REPLICATION_PEER_TRANSPORT_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>

#include "chat/common/mutex.h"
#include "chat/common/status.h"
#include "chat/replication/raft_messages.h"

namespace chat::replication {

class PeerTransport {
 public:
  using Handler = std::function<void(Envelope)>;
  // Writes a snapshot of this node's state to a new file and returns its path; the transport
  // sends it and deletes it. Called on a transport thread.
  using SnapshotProvider = std::function<Result<std::string>()>;
  virtual ~PeerTransport() = default;
  // Best effort: a message to an unreachable peer is dropped (Raft retries).
  virtual void send(Envelope envelope) = 0;
  // REQUIRES: called once, before the first message can arrive.
  virtual void setHandler(Handler handler) = 0;
  // REQUIRES: called once, before peers can ask.
  virtual void setSnapshotProvider(SnapshotProvider provider) = 0;
  // Fetches `peer`'s snapshot into the file `path` (synced). Blocks for the whole transfer:
  // call it from a thread of your own; `stop` ends it early. Errors: kUnavailable (peer
  // unreachable, has none, or stopped), kIoError (local file).
  virtual Status fetchSnapshot(NodeId peer, const std::string& path, std::stop_token stop) = 0;
};

// The transport of a cluster of one (a node run without a cluster file): there is nobody to
// send to, and nobody asks for snapshots.
class NoPeerTransport final : public PeerTransport {
 public:
  void send(Envelope) override {}
  void setHandler(Handler) override {}
  void setSnapshotProvider(SnapshotProvider) override {}
  Status fetchSnapshot(NodeId, const std::string&, std::stop_token) override {
    return Status::unavailable("a node without peers fetches no snapshots");
  }
};

// Connects nodes of one process. Links can be cut to simulate partitions.
class LocalTransportHub {
 public:
  // A transport for node `id`; the hub must outlive it.
  std::unique_ptr<PeerTransport> attach(NodeId id);
  void cut(NodeId node) EXCLUDES(mu_);  // isolate a node from everyone
  void heal() EXCLUDES(mu_);

 private:
  class Endpoint;
  void deliver(Envelope envelope) EXCLUDES(mu_);
  Status fetch(NodeId from, NodeId to, const std::string& path) EXCLUDES(mu_);
  Mutex mu_;
  std::map<NodeId, PeerTransport::Handler> handlers_ GUARDED_BY(mu_);
  std::map<NodeId, PeerTransport::SnapshotProvider> providers_ GUARDED_BY(mu_);
  std::set<NodeId> cut_ GUARDED_BY(mu_);
};

}  // namespace chat::replication

#endif  // CHAT_REPLICATION_PEER_TRANSPORT_H_
