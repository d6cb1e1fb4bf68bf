// SocketPeerTransport: PeerTransport over TCP (Poco sockets) between the peer ports of the
// cluster file. Each node sends on its own outbound connection to every peer and receives on
// the connections peers open to it, so an inbound connection only ever carries one peer's
// messages. Both ends first prove they know the cluster secret (key = HKDF of it):
//
//   acceptor  -> u32 its node id, 32-byte random challenge
//   connector -> u32 its node id, 32-byte random nonce,
//                HMAC-SHA256(key, "...connector" || challenge || nonce || its id || acceptor id)
//   acceptor  -> HMAC-SHA256(key, "...acceptor" || challenge || nonce || its id || connector id)
//   then frames from connector: u32 length, envelope (peer_codec.h)
//   or, instead of the first frame, u32 0xFFFFFFFF: a snapshot request; the acceptor answers
//   u64 size (all ones: none) and the snapshot's bytes, and closes.
// An operator (the supervisor) connects as node id 0 with the same proof; its one request
// is u32 0xFFFFFFFE, "stand for election now", answered with the byte 1.
//
// Each proof covers both nonces, the direction and both ids: it cannot be replayed, reflected,
// or relayed to another node, and the connector sends nothing (and takes no snapshot) until
// the acceptor proved itself, so a process squatting on a stopped node's port learns and
// serves nothing. A connection that fails the proof, does not answer within two seconds, or
// sends an envelope claiming another sender, is logged and closed; at most 32 connections
// may be proving themselves at once and 256 be open in all (the rest are refused at once).
// Outbound queues are bounded (Raft resends what is dropped).
//
// Thread contract: send() is thread-safe and never blocks; one thread accepts, one reads
// each inbound connection, one writes each outbound connection.
#ifndef CHAT_REPLICATION_SOCKET_PEER_TRANSPORT_H_
#define CHAT_REPLICATION_SOCKET_PEER_TRANSPORT_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "chat/common/status.h"
#include "chat/replication/peer_transport.h"
#include "chat/tls/tls_stream.h"

namespace chat::replication {

struct SocketTransportOptions {
  NodeId self = kNoNode;
  std::string listenHost = "127.0.0.1";
  uint16_t listenPort = 0;              // 0 picks a free port (tests)
  std::map<NodeId, std::string> peers;  // id -> host:port of its peer port
  std::string secret;
  size_t maxQueuedMessages = 10000;  // per peer; beyond this, messages are dropped
  // TLS on the peer port (both set, or neither): this node's certificate for accepting, and
  // the cluster's CA for checking the peers it connects to. The secret still proves that a
  // peer belongs; TLS keeps the log private on the wire.
  std::shared_ptr<tls::TlsContext> tlsServer;
  std::shared_ptr<tls::TlsContext> tlsClient;
};

class SocketPeerTransport final : public PeerTransport {
 public:
  // Binds the peer port and starts the threads. Errors: kIoError (port in use, bad host).
  static Result<std::unique_ptr<SocketPeerTransport>> start(SocketTransportOptions options);
  ~SocketPeerTransport() override;  // closes every connection and joins every thread
  SocketPeerTransport(const SocketPeerTransport&) = delete;  // owns sockets and threads
  SocketPeerTransport& operator=(const SocketPeerTransport&) = delete;

  void send(Envelope envelope) override;
  void setHandler(Handler handler) override;
  void setSnapshotProvider(SnapshotProvider provider) override;
  // What an operator's "stand for election now" does (ReplicatedCommitLog::campaignNow).
  // Called on a transport thread.
  void setCampaignHandler(std::function<void()> handler);
  // Opens a connection of its own to the peer, proves the secret, sends the snapshot request
  // and writes the reply into `path`.
  Status fetchSnapshot(NodeId peer, const std::string& path, std::stop_token stop) override;
  uint16_t port() const;
  // Inbound connections refused for a failed proof, since start (for tests and status).
  uint64_t refusedConnections() const;

 private:
  struct Impl;
  explicit SocketPeerTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Asks the node whose peer port is `peerAddress` to stand for election at once (the
// supervisor does this when it sees the leader's process die, so failover need not wait out
// the election timeout). Proves the cluster secret as an operator. Errors: kUnavailable
// (unreachable or refused), kTimeout.
Status askToCampaign(const std::string& peerAddress, const std::string& secret,
                     std::chrono::milliseconds timeout, const tls::TlsContext* tls = nullptr);

}  // namespace chat::replication

#endif  // CHAT_REPLICATION_SOCKET_PEER_TRANSPORT_H_
