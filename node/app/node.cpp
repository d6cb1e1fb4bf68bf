#include "node.h"

#include <sys/resource.h>
#include <sysexits.h>

#include <atomic>
#include <filesystem>

#include <Poco/Logger.h>

#include "chat/admin/admin_server.h"
#include "chat/cluster/cluster_secret.h"
#include "chat/common/clock.h"
#include "chat/common/kv_log.h"
#include "chat/common/process_info.h"
#include "chat/log/file_system.h"
#include "chat/net/client_listener.h"
#include "chat/replication/log_raft_storage.h"
#include "chat/replication/replicated_commit_log.h"
#include "chat/replication/socket_peer_transport.h"
#include "chat/service/chat_service.h"
#include "chat/storage/sqlite_archive.h"
#include "chat/tls/tls_stream.h"
#include "log_migration.h"
#include "node_metrics.h"
#include "session_key_file.h"

namespace chat::node {

namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("chat");
}

// A step's error, with what the step was.
Status failed(const std::string& step, const Status& s) {
  return {s.code(), step + ": " + s.message()};
}

}  // namespace

// What a node is made of, in the order they are built; ~Node takes them down in reverse.
struct Node::Parts {
  NodeSettings settings;
  SystemClock clock;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<storage::ArchivedStore> store;
  std::unique_ptr<replication::LogRaftStorage> raftStorage;
  std::unique_ptr<replication::PeerTransport> noPeers;
  std::unique_ptr<replication::SocketPeerTransport> peers;
  std::unique_ptr<replication::ReplicatedCommitLog> commitLog;
  std::unique_ptr<service::PasswordHasher> hasher;
  std::unique_ptr<service::ThreadPoolExecutor> slowWork;
  std::unique_ptr<service::ChatService> chat;
  std::atomic<net::ClientListener*> listenerRef{nullptr};  // for status, once it exists
  std::unique_ptr<net::ClientListener> listener;
  std::unique_ptr<NodeParts> metricParts;
  std::unique_ptr<admin::AdminServer> admin;

  const cluster::ClusterConfig* cluster() const {
    return settings.cluster ? &*settings.cluster : nullptr;
  }

  Status openStore();
  Status openLog();
  Status startPeers(replication::ReplicatedLogOptions& options);
  Status openCommitLog();
  Status startService();
  Status startListener();
  Status startAdmin();
  protocol::NodeStatus status() const;
};

Status Node::Parts::openStore() {
  std::error_code ec;
  std::filesystem::create_directories(settings.dataDir, ec);
  if (ec) {
    return Status::ioError("cannot create the data folder " + settings.dataDir + ": " +
                           ec.message());
  }
  storage::SqliteOptions options;
  // The log is the durable record; chat.db syncs on every write only when asked.
  options.syncFull = settings.syncChatDb;
  auto opened = storage::openSqliteStore(settings.dataDir + "/chat.db", options);
  if (!opened) {
    return opened.error();
  }
  store = std::move(opened).value();
  return Status::ok();
}

Status Node::Parts::openLog() {
  auto applied = store->appliedPosition();
  if (!applied) {
    return applied.error();
  }
  auto folder = prepareLogFolder(settings.dataDir, {applied->index, applied->epoch});
  if (!folder) {
    return folder.error();
  }
  if (*folder == LogFolderState::kMigratedFromRaftDb) {
    logEvent(logger(), Poco::Message::PRIO_NOTICE, "log_migrated",
             {{"from", settings.dataDir + "/raft.db"}},
             "moved the replication log of raft.db to " + settings.dataDir +
                 "/log (raft.db kept as raft.db.migrated)");
  }
  auto opened = replication::LogRaftStorage::open(log::posixFileSystem(), settings.dataDir);
  if (!opened) {
    return opened.error();
  }
  raftStorage = std::move(opened).value();
  if (const auto& recovery = raftStorage->recovery(); recovery.tornBytes > 0) {
    logEvent(logger(), Poco::Message::PRIO_WARNING, "log_torn_tail",
             {{"file", recovery.tornFile},
              {"offset", std::to_string(recovery.tornOffset)},
              {"bytes", std::to_string(recovery.tornBytes)}},
             "cut off a write the last crash left unfinished (never acknowledged); a copy is "
             "kept beside the segment");
  }
  return Status::ok();
}

Status Node::Parts::startPeers(replication::ReplicatedLogOptions& o) {
  o.raft.self = settings.nodeId;
  o.snapshotDir = settings.dataDir;
  const cluster::ClusterConfig* c = cluster();
  if (c == nullptr) {
    // A node without a cluster file is a cluster of one: the same log, commit and apply,
    // with nobody else to wait for.
    o.raft.members = {settings.nodeId};
    noPeers = std::make_unique<replication::NoPeerTransport>();
    return Status::ok();
  }
  // chat-node checked it when it read the cluster file; a node assembled otherwise (tests)
  // is held to the same rule.
  CHAT_RETURN_IF_ERROR(cluster::checkSecretStrength(c->secret, c->source + ": the secret"));
  const cluster::NodeConfig& self = *c->node(settings.nodeId);
  replication::SocketTransportOptions t;
  t.self = settings.nodeId;
  t.listenHost = self.host;
  t.listenPort = self.peerPort;
  t.secret = c->secret;
  if (!c->tlsCa.empty()) {
    // The same certificate serves the peer port; the CA checks the peers.
    auto server = tls::TlsContext::server({self.tlsCert, self.tlsKey});
    auto client = tls::TlsContext::client({c->tlsCa});
    if (!server || !client) {
      return Status::invalidArgument("TLS on the peer port: " +
                                     (server ? client.error() : server.error()).message());
    }
    t.tlsServer = std::move(server).value();
    t.tlsClient = std::move(client).value();
  }
  o.raft.heartbeat = c->heartbeat;
  o.raft.electionTimeout = c->electionTimeout;
  o.raft.electionStep = c->electionStep;
  o.maxLogEntries = c->maxLogEntries;
  o.compactEntries = c->compactEntries;
  for (const auto& n : c->nodes) {
    t.peers[n.id] = n.peerAddress();
    o.raft.members.push_back(n.id);
  }
  auto transport = replication::SocketPeerTransport::start(t);
  if (!transport) {
    return Status::unavailable(transport.error().message());
  }
  peers = std::move(transport).value();
  return Status::ok();
}

Status Node::Parts::openCommitLog() {
  replication::ReplicatedLogOptions options;
  CHAT_RETURN_IF_ERROR(startPeers(options));
  replication::PeerTransport& transport =
      peers ? static_cast<replication::PeerTransport&>(*peers) : *noPeers;
  auto opened =
      replication::ReplicatedCommitLog::open(options, *store, *raftStorage, transport, clock);
  if (!opened) {
    return opened.error();
  }
  commitLog = std::move(opened).value();
  if (options.raft.members.size() == 1 && !commitLog->awaitServing(std::chrono::seconds(30))) {
    // A cluster of one (with or without a cluster file) applies what its log holds beyond
    // chat.db before it answers anyone, so that nothing it acknowledged before a crash is
    // missing from its answers, and its first client is never told to wait for an election.
    return Status::ioError("the node could not apply its own log within 30 s (its storage "
                           "failed? see the log)");
  }
  if (peers) {
    replication::ReplicatedCommitLog* log = commitLog.get();
    peers->setCampaignHandler([log] { log->campaignNow(); });
  }
  return Status::ok();
}

Status Node::Parts::startService() {
  hasher = std::make_unique<service::PasswordHasher>(settings.passwordHash);
  // Two hashers; at most 256 logins and sign-ups wait for them (a hash takes tens of ms at
  // the interactive cost: seconds of waiting), then the next is told the server is busy.
  slowWork = std::make_unique<service::ThreadPoolExecutor>(2, 256);
  service::ServiceOptions options;
  options.limits = settings.limits;
  // A reply must always fit the output allowance of the client asking for it.
  options.maxReplyBytes = std::min(size_t{1} << 20, settings.maxOutputBytes / 2);
  if (const cluster::ClusterConfig* c = cluster()) {
    // Every node derives the same key from the cluster secret, so a token works on any.
    options.sessionKey = cluster::deriveClusterKey(c->secret, "session tokens");
  } else {
    auto key = loadOrCreateSessionKey(settings.dataDir + "/session.key");
    if (!key) {
      return key.error();
    }
    options.sessionKey = *key;
  }
  options.sessionLifetime = settings.sessionLifetime;
  options.signUpsPerMinute = settings.signUpsPerMinute;
  options.sendsPerSecond = settings.sendsPerSecond;
  chat = std::make_unique<service::ChatService>(clock, *store, *commitLog, *hasher, *slowWork,
                                                options);
  if (const cluster::ClusterConfig* c = cluster()) {
    replication::ReplicatedCommitLog* log = commitLog.get();
    chat->setLeaderCheck([log, c]() -> std::optional<protocol::NotLeaderReply> {
      if (log->serving()) {
        return std::nullopt;
      }
      // A leader fresh from its election answers once it has applied what its predecessors
      // committed (a round trip): until then clients hear "no leader yet" and ask again.
      protocol::NotLeaderReply hint;
      if (log->role() != replication::Role::kLeader) {
        if (const cluster::NodeConfig* leader = c->node(log->leader())) {
          hint.nodeId = leader->id;
          hint.address = leader->clientAddress();
        }
      }
      return hint;
    });
  }
  // Set before the listener starts (the service reads it unlocked, and a status request may
  // come the moment the port opens).
  chat->setStatusSource([this] { return status(); });
  return Status::ok();
}

protocol::NodeStatus Node::Parts::status() const {
  net::ClientListener* listenerPtr = listenerRef.load();
  protocol::NodeStatus s;
  s.nodeId = settings.nodeId;
  const cluster::ClusterConfig* c = cluster();
  s.role = c != nullptr ? replication::roleName(commitLog->role()) : "standalone";
  s.epoch = commitLog->epoch();
  s.commitIndex = commitLog->appliedIndex();
  s.appliedIndex = commitLog->appliedIndex();
  s.uptimeMillis = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
  s.connections = listenerPtr != nullptr ? static_cast<uint32_t>(listenerPtr->connectionCount()) : 0;
  s.residentBytes = residentBytes();
  s.leaderAddress = settings.host + ":" +
                    std::to_string(listenerPtr != nullptr ? listenerPtr->port() : settings.port);
  if (c == nullptr) {
    return s;
  }
  replication::NodeId leader = commitLog->leader();
  const cluster::NodeConfig* l = c->node(leader);
  s.leaderAddress = l != nullptr ? l->clientAddress() : "";
  if (auto election = commitLog->lastElection(); election.epoch != 0) {
    auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - election.at);
    s.lastElection = "epoch " + std::to_string(election.epoch) + ", " +
                     std::to_string(ago.count() / 1000) + "." +
                     std::to_string(ago.count() % 1000 / 100) + " s ago: " + election.cause;
  }
  // Peers as this node sees them: the leader knows each follower's progress; a follower
  // knows only who leads.
  auto progress = commitLog->peerProgress();
  for (const auto& n : c->nodes) {
    if (n.id == settings.nodeId) {
      continue;
    }
    protocol::PeerStatus p{n.id, n.clientAddress(), n.id == leader ? "leader" : "unknown", 0,
                           n.id == leader};
    for (const auto& q : progress) {
      if (q.id == n.id) {
        p.matchIndex = q.match;
        p.reachable = q.reachable;
        p.role = q.reachable ? "follower" : "unreachable";
      }
    }
    s.peers.push_back(std::move(p));
  }
  return s;
}

Status Node::Parts::startListener() {
  net::ListenerOptions options;
  options.host = settings.host;
  options.port = settings.port;
  options.loops = settings.loops;
  options.idleTimeout = settings.idleTimeout;
  options.loginTimeout = settings.loginTimeout;
  options.maxConnectionsPerAddress = settings.maxConnectionsPerAddress;
  options.maxConnections = settings.maxConnections;
  if (options.maxConnections == 0) {
    // Past the open-file limit accept() fails anyway; stopping short of it keeps descriptors
    // for the log, chat.db, snapshots and peers, and refuses with a reason instead.
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    options.maxConnections = files.rlim_cur > 320 ? files.rlim_cur - 256 : 64;
  }
  options.limits = settings.limits;
  options.maxOutputBytes = settings.maxOutputBytes;
  if (!settings.tlsCert.empty() || !settings.tlsKey.empty()) {
    auto tls = tls::TlsContext::server({settings.tlsCert, settings.tlsKey});
    if (!tls) {
      return Status::invalidArgument(tls.error().message() +
                                     "; give --tls-cert and --tls-key (PEM files)");
    }
    options.tls = std::move(tls).value();
  }
  auto opened = net::ClientListener::start(*chat, options);
  if (!opened) {
    return Status::unavailable(opened.error().message());
  }
  listener = std::move(opened).value();
  listenerRef.store(listener.get());
  return Status::ok();
}

Status Node::Parts::startAdmin() {
  if (settings.adminPort == 0) {
    return Status::ok();
  }
  metricParts = std::make_unique<NodeParts>(NodeParts{
      settings.nodeId, chat.get(), store.get(), commitLog.get(), commitLog.get(), cluster(),
      [this] { return listener->connectionCount(); },
      [this] { return store->archivedIndex(); }, started});
  admin::AdminOptions options{settings.adminHost.empty() ? settings.host : settings.adminHost,
                              settings.adminPort};
  NodeParts* p = metricParts.get();
  auto opened = admin::AdminServer::start(
      options, admin::AdminPages{[p] { return renderNodeMetrics(*p); },
                                 [p] { return nodeHealth(*p); }});
  if (!opened) {
    return Status::unavailable(opened.error().message());
  }
  admin = std::move(opened).value();
  logEvent(logger(), Poco::Message::PRIO_INFORMATION, "admin_listening",
           {{"address", options.host + ":" + std::to_string(admin->port())}},
           "serving /metrics and /health");
  return Status::ok();
}

Node::Node(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Result<std::unique_ptr<Node>> Node::start(const NodeSettings& settings) {
  auto parts = std::make_unique<Parts>();
  parts->settings = settings;
  // Whatever fails, ~Node stops what was started (the unique_ptr below owns it from here).
  std::unique_ptr<Node> node(new Node(std::move(parts)));
  Parts& p = *node->parts_;
  if (Status s = p.openStore(); !s.isOk()) {
    return failed("opening chat.db", s);
  }
  if (Status s = p.openLog(); !s.isOk()) {
    return failed("opening the log", s);
  }
  if (Status s = p.openCommitLog(); !s.isOk()) {
    return failed("starting replication", s);
  }
  if (Status s = p.startService(); !s.isOk()) {
    return failed("starting the chat service", s);
  }
  if (Status s = p.startListener(); !s.isOk()) {
    return failed("opening the client port", s);
  }
  if (Status s = p.startAdmin(); !s.isOk()) {
    return failed("opening the admin port", s);
  }
  return node;
}

Node::~Node() {
  Parts& p = *parts_;
  // No new requests, then no hashing tasks, then no commits, so nothing calls into the chat
  // service after it is gone; then the transports and storage the log used.
  p.admin.reset();
  p.listenerRef.store(nullptr);
  p.listener.reset();
  p.slowWork.reset();
  p.commitLog.reset();
  p.peers.reset();
  p.noPeers.reset();
  p.chat.reset();
  p.raftStorage.reset();
  p.store.reset();  // records what is still queued for chat.db
}

uint16_t Node::port() const {
  return parts_->listener->port();
}

uint16_t Node::adminPort() const {
  return parts_->admin ? parts_->admin->port() : 0;
}

uint64_t Node::appliedIndex() const {
  return parts_->commitLog->appliedIndex();
}

int exitCodeFor(const Status& error) {
  switch (error.code()) {
    case StatusCode::kInvalidArgument:
      return EX_CONFIG;
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout:
      return EX_UNAVAILABLE;
    case StatusCode::kCorruption:
    case StatusCode::kIoError:
      return EX_IOERR;
    default:
      return EX_SOFTWARE;
  }
}

}  // namespace chat::node
