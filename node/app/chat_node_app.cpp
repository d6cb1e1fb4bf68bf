#include "chat_node_app.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/SplitterChannel.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/IntValidator.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionCallback.h>
#include <Poco/Util/OptionSet.h>

#include "chat/cluster/cluster_config.h"
#include "chat/common/clock.h"
#include "chat/common/kv_log.h"
#include "chat/common/process_info.h"
#include "chat/net/client_listener.h"
#include "chat/replication/replicated_commit_log.h"
#include "chat/replication/socket_peer_transport.h"
#include "chat/log/file_system.h"
#include "chat/replication/log_raft_storage.h"
#include "chat/service/chat_service.h"
#include "chat/storage/sqlite_archive.h"
#include "chat/tls/tls_stream.h"
#include "log_migration.h"
#include "node_metrics.h"
#include "session_key_file.h"

namespace chat::node {

using Poco::Util::Option;
using Poco::Util::OptionCallback;

namespace {
constexpr const char* kLoggerName = "chat";
}

void ChatNodeApp::initialize(Poco::Util::Application& self) {
  ServerApplication::initialize(self);
}

void ChatNodeApp::defineOptions(Poco::Util::OptionSet& options) {
  ServerApplication::defineOptions(options);
  options.addOption(Option("help", "h", "show the options and exit")
                        .required(false)
                        .repeatable(false)
                        .callback(OptionCallback<ChatNodeApp>(this, &ChatNodeApp::handleHelp)));
  options.addOption(Option("config", "c", "load settings from FILE (.ini or .properties)")
                        .required(false)
                        .repeatable(true)
                        .argument("FILE")
                        .callback(OptionCallback<ChatNodeApp>(this, &ChatNodeApp::handleConfig)));
  auto setting = [&](const char* name, const char* arg, const char* help) {
    options.addOption(Option(name, "", help)
                          .required(false)
                          .repeatable(false)
                          .argument(arg)
                          .callback(OptionCallback<ChatNodeApp>(this, &ChatNodeApp::handleSet)));
  };
  setting("cluster", "FILE",
          "run as node --id of the cluster in FILE (etc/cluster.ini); its host, client port "
          "and data folder come from the file");
  setting("id", "N", "this node's id in the cluster file");
  setting("port", "P", "client port; 0 picks a free one and logs it (default 7001)");
  setting("host", "HOST", "address to listen on (default 127.0.0.1)");
  setting("data-dir", "DIR", "folder for the SQLite database and the log file (default var/node)");
  setting("port-file", "FILE", "write the bound client port to FILE once listening");
  setting("log-level", "LEVEL", "error, warning, notice, information, debug (default information)");
  setting("password-hash", "COST", "Argon2id cost: interactive (default), moderate or min");
  setting("sync", "MODE",
          "chat.db's own durability: normal (the default: the log is synced on every commit and "
          "chat.db is rebuilt from it after a crash) or full (chat.db synced too)");
  setting("loops", "N", "network event loops (default: half the cores, at least 1)");
  setting("idle-timeout", "SECONDS", "close connections idle this long (default 1800)");
  setting("max-frame-bytes", "N", "largest frame accepted (default 65536)");
  setting("max-output-bytes", "N",
          "disconnect a client with more unread output than this (default 8388608)");
  setting("admin-port", "P",
          "serve HTTP /metrics (Prometheus) and /health on port P (default: off)");
  setting("admin-host", "HOST", "address of the admin port (default: the client address)");
  setting("tls-cert", "FILE",
          "serve the client port over TLS only, with this certificate chain (PEM)");
  setting("tls-key", "FILE", "the private key of --tls-cert (PEM)");
  setting("log-file", "FILE", "the log file (default DATA_DIR/chat-node.log)");
  setting("log-rotation", "WHEN",
          "rotate the log file: never, a size (500 K, 10 M; the default), daily, weekly");
  setting("log-keep", "N", "rotated log files kept (default 5)");
}

void ChatNodeApp::handleHelp(const std::string&, const std::string&) {
  helpRequested_ = true;
  Poco::Util::HelpFormatter help(options());
  help.setCommand(commandName());
  help.setUsage("[options]");
  help.setHeader(
      "chat-node: a chat server. Accounts, private messages and history, stored in SQLite; "
      "binary protocol version 3 and text line mode (version 1) on one port.");
  help.setFooter("Settings may also come from a config file: see etc/chat-node.properties.");
  help.format(std::cout);
  stopOptionsProcessing();
}

void ChatNodeApp::handleConfig(const std::string&, const std::string& value) {
  loadConfiguration(value, PRIO_DEFAULT);
}

void ChatNodeApp::handleSet(const std::string& name, const std::string& value) {
  // Command-line values override the config file: they go in at application priority.
  std::string key = name;
  std::replace(key.begin(), key.end(), '-', '_');
  config().setString("node." + key, value);
}

Status ChatNodeApp::setupLogging() {
  std::string dataDir = config().getString("node.data_dir", "var/node");
  std::string level = config().getString("node.log_level", "information");
  std::string path = config().getString("node.log_file", dataDir + "/chat-node.log");
  // Poco's FileChannel settings, passed through: rotation "never", "10 M", "500 K",
  // "daily", "weekly", "monthly", "<n> hours"; archives numbered or timestamped, the oldest
  // beyond log_keep deleted.
  std::string rotation = config().getString("node.log_rotation", "10 M");
  std::string archive = config().getString("node.log_archive", "number");
  std::string keep = config().getString("node.log_keep", "5");
  std::string compress = config().getString("node.log_compress", "false");
  Poco::AutoPtr<Poco::SplitterChannel> splitter(new Poco::SplitterChannel);
  Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel);
  splitter->addChannel(console);
  Poco::AutoPtr<Poco::FileChannel> file(new Poco::FileChannel);
  std::string setting = "log_level";
  try {
    Poco::Logger::parseLevel(level);
    file->setProperty("path", path);
    setting = "log_rotation";
    file->setProperty("rotation", rotation);
    setting = "log_archive";
    file->setProperty("archive", archive);
    setting = "log_keep";
    file->setProperty("purgeCount", keep);
    setting = "log_compress";
    file->setProperty("compress", compress);
    file->setProperty("times", "utc");
    setting = "log_file";
    file->open();
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument(
        setting + " is not valid (" + e.displayText() +
        "); see chat-node --help and docs/operations.md (Logs) for the accepted values");
  }
  splitter->addChannel(file);
  Poco::AutoPtr<KeyValueFormatter> formatter(new KeyValueFormatter);
  Poco::AutoPtr<Poco::FormattingChannel> formatting(
      new Poco::FormattingChannel(formatter, splitter));
  // The empty name sets every logger, including those created before this point.
  Poco::Logger::setChannel("", formatting);
  Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
  return Status::ok();
}

int ChatNodeApp::main(const std::vector<std::string>& args) {
  if (helpRequested_) {
    return EXIT_OK;
  }
  if (!args.empty()) {
    std::cerr << "chat-node: unexpected argument '" << args.front() << "'; see chat-node --help\n";
    return EXIT_USAGE;
  }
  try {
    Poco::Logger& log = Poco::Logger::get(kLoggerName);
    // In a cluster the cluster file says where this node listens and keeps its data.
    std::optional<cluster::ClusterConfig> clusterConfig;
    uint32_t nodeId = 1;
    if (config().has("node.cluster")) {
      auto loaded = cluster::loadClusterConfig(config().getString("node.cluster"));
      if (!loaded) {
        std::cerr << "chat-node: " << loaded.error().message() << "\n";
        return EXIT_CONFIG;
      }
      nodeId = static_cast<uint32_t>(config().getInt("node.id", 0));
      const cluster::NodeConfig* self = loaded->node(nodeId);
      if (self == nullptr) {
        std::cerr << "chat-node: --id " << nodeId << " is not a node of "
                  << config().getString("node.cluster") << "; give --id with one of its ids\n";
        return EXIT_CONFIG;
      }
      config().setString("node.data_dir", self->dataDir);
      config().setString("node.host", self->host);
      config().setInt("node.port", self->clientPort);
      if (self->adminPort != 0 && !config().has("node.admin_port")) {
        config().setInt("node.admin_port", self->adminPort);
      }
      if (!self->tlsCert.empty() && !config().has("node.tls_cert")) {
        config().setString("node.tls_cert", self->tlsCert);
        config().setString("node.tls_key", self->tlsKey);
      }
      clusterConfig = std::move(loaded).value();
    }
    std::string dataDir = config().getString("node.data_dir", "var/node");
    std::error_code ec;
    std::filesystem::create_directories(dataDir, ec);
    if (ec) {
      std::cerr << "chat-node: cannot create the data folder " << dataDir << ": " << ec.message()
                << "\n";
      return EXIT_CANTCREAT;
    }
    if (Status logging = setupLogging(); !logging.isOk()) {
      std::cerr << "chat-node: " << logging.message() << "\n";
      return EXIT_CONFIG;
    }
    uint64_t openFiles = raiseOpenFileLimit();

    auto cost = service::parseHashCost(config().getString("node.password_hash", "interactive"));
    if (!cost) {
      log.error(cost.error().message());
      return EXIT_CONFIG;
    }
    std::string sync = config().getString("node.sync", "normal");
    if (sync != "full" && sync != "normal") {
      log.error("sync must be full or normal, not '" + sync + "'");
      return EXIT_CONFIG;
    }
    int port = config().getInt("node.port", 7001);
    if (port < 0 || port > 65535) {
      log.error("port " + std::to_string(port) + " is out of range 0..65535");
      return EXIT_CONFIG;
    }

    storage::SqliteOptions storeOptions;
    // The log (fdatasync'd per group) is the durable record, on a single node as in a
    // cluster: chat.db is a state derived from it and records its applied index in the same
    // transaction, so after a crash it rolls back consistently and the missing entries are
    // applied again from the log. It need not pay an fsync of its own per commit unless
    // asked (sync = full).
    storeOptions.syncFull = sync == "full";
    std::string dbPath = dataDir + "/chat.db";
    auto store = storage::openSqliteStore(dbPath, storeOptions);
    if (!store) {
      log.error(store.error().message());
      return EXIT_IOERR;
    }
    auto applied = (*store)->appliedPosition();
    if (!applied) {
      log.error(applied.error().message());
      return EXIT_IOERR;
    }
    auto folder = prepareLogFolder(dataDir, {applied->index, applied->epoch});
    if (!folder) {
      log.error(folder.error().message());
      return EXIT_IOERR;
    }
    if (*folder == LogFolderState::kMigratedFromRaftDb) {
      logEvent(log, Poco::Message::PRIO_NOTICE, "log_migrated", {{"from", dataDir + "/raft.db"}},
               "moved the replication log of raft.db to " + dataDir +
                   "/log (raft.db kept as raft.db.migrated)");
    }
    auto raft = replication::LogRaftStorage::open(log::posixFileSystem(), dataDir);
    if (!raft) {
      log.error(raft.error().message());
      return EXIT_IOERR;
    }
    if (const auto& recovery = (*raft)->recovery(); recovery.tornBytes > 0) {
      logEvent(log, Poco::Message::PRIO_WARNING, "log_torn_tail",
               {{"file", recovery.tornFile},
                {"offset", std::to_string(recovery.tornOffset)},
                {"bytes", std::to_string(recovery.tornBytes)}},
               "cut off a write the last crash left unfinished (never acknowledged); a copy "
               "is kept beside the segment");
    }
    std::unique_ptr<replication::RaftStorage> raftStorage = std::move(raft).value();
    SystemClock clock;
    std::unique_ptr<replication::PeerTransport> transport;
    std::unique_ptr<replication::SocketPeerTransport> socketTransport;
    replication::ReplicatedLogOptions o;
    o.raft.self = nodeId;
    o.snapshotDir = dataDir;
    if (clusterConfig) {
      const cluster::NodeConfig& self = *clusterConfig->node(nodeId);
      replication::SocketTransportOptions t;
      t.self = nodeId;
      t.listenHost = self.host;
      t.listenPort = self.peerPort;
      t.secret = clusterConfig->secret;
      if (!clusterConfig->tlsCa.empty()) {
        // The same certificate serves the peer port; the CA checks the peers.
        auto server = tls::TlsContext::server({self.tlsCert, self.tlsKey});
        auto client = tls::TlsContext::client({clusterConfig->tlsCa});
        if (!server || !client) {
          log.error("TLS on the peer port: " +
                    (server ? client.error() : server.error()).message());
          return EXIT_CONFIG;
        }
        t.tlsServer = std::move(server).value();
        t.tlsClient = std::move(client).value();
      }
      o.raft.heartbeat = clusterConfig->heartbeat;
      o.raft.electionTimeout = clusterConfig->electionTimeout;
      o.raft.electionStep = clusterConfig->electionStep;
      o.maxLogEntries = clusterConfig->maxLogEntries;
      o.compactEntries = clusterConfig->compactEntries;
      for (const auto& n : clusterConfig->nodes) {
        t.peers[n.id] = n.peerAddress();
        o.raft.members.push_back(n.id);
      }
      auto started = replication::SocketPeerTransport::start(t);
      if (!started) {
        log.error(started.error().message());
        return EXIT_UNAVAILABLE;
      }
      socketTransport = std::move(started).value();
    } else {
      // A node without a cluster file is a cluster of one: the same log, commit and apply,
      // with nobody else to wait for.
      o.raft.members = {nodeId};
      transport = std::make_unique<replication::NoPeerTransport>();
    }
    replication::PeerTransport& peers =
        socketTransport ? static_cast<replication::PeerTransport&>(*socketTransport) : *transport;
    auto replicatedLog =
        replication::ReplicatedCommitLog::open(o, **store, *raftStorage, peers, clock);
    if (!replicatedLog) {
      log.error(replicatedLog.error().message());
      return EXIT_IOERR;
    }
    replication::ReplicatedCommitLog* replicated = replicatedLog->get();
    std::unique_ptr<service::CommitLog> commitLog = std::move(replicatedLog).value();
    if (socketTransport) {
      socketTransport->setCampaignHandler([replicated] { replicated->campaignNow(); });
    }
    service::PasswordHasher hasher(*cost);
    auto slowWork = std::make_unique<service::ThreadPoolExecutor>(2);
    service::ServiceOptions serviceOptions;
    serviceOptions.limits.maxFrameBytes =
        static_cast<size_t>(config().getInt("node.max_frame_bytes", 64 * 1024));
    // A reply must always fit the output allowance of the client asking for it.
    serviceOptions.maxReplyBytes = std::min<size_t>(
        1024 * 1024,
        static_cast<size_t>(config().getInt64("node.max_output_bytes", 8 * 1024 * 1024)) / 2);
    if (clusterConfig) {
      serviceOptions.sessionKey = service::sessionKeyFromSecret(clusterConfig->secret);
    } else {
      auto key = loadOrCreateSessionKey(dataDir + "/session.key");
      if (!key) {
        log.error(key.error().message());
        return EXIT_IOERR;
      }
      serviceOptions.sessionKey = *key;
    }
    serviceOptions.sessionLifetime =
        std::chrono::hours(config().getInt("node.session_hours", 24));
    service::ChatService chat(clock, **store, *commitLog, hasher, *slowWork, serviceOptions);
    const cluster::ClusterConfig* clusterPtr = clusterConfig ? &*clusterConfig : nullptr;
    if (clusterConfig) {
      chat.setLeaderCheck([replicated, clusterPtr]() -> std::optional<protocol::NotLeaderReply> {
        if (replicated->role() == replication::Role::kLeader) {
          return std::nullopt;
        }
        protocol::NotLeaderReply hint;
        const cluster::NodeConfig* leader = clusterPtr->node(replicated->leader());
        if (leader != nullptr) {
          hint.nodeId = leader->id;
          hint.address = leader->clientAddress();
        }
        return hint;
      });
    }

    net::ListenerOptions listenerOptions;
    listenerOptions.host = config().getString("node.host", "127.0.0.1");
    listenerOptions.port = static_cast<uint16_t>(port);
    // One loop per two cores: the commit thread and the hashing workers need the rest.
    int defaultLoops = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
    listenerOptions.loops = config().getInt("node.loops", defaultLoops);
    if (listenerOptions.loops < 1 || listenerOptions.loops > 64) {
      log.error("loops must be between 1 and 64");
      return EXIT_CONFIG;
    }
    listenerOptions.idleTimeout = std::chrono::seconds(config().getInt("node.idle_timeout", 1800));
    listenerOptions.limits = serviceOptions.limits;
    listenerOptions.maxOutputBytes =
        static_cast<size_t>(config().getInt64("node.max_output_bytes", 8 * 1024 * 1024));
    if (listenerOptions.maxOutputBytes < 16 * 1024) {
      log.error("max_output_bytes must be at least 16384");
      return EXIT_CONFIG;
    }
    if (config().has("node.tls_cert") || config().has("node.tls_key")) {
      auto tls = tls::TlsContext::server({config().getString("node.tls_cert", ""),
                                          config().getString("node.tls_key", "")});
      if (!tls) {
        log.error(tls.error().message() + "; give --tls-cert and --tls-key (PEM files)");
        return EXIT_CONFIG;
      }
      listenerOptions.tls = std::move(tls).value();
    }
    // The status source is set before the listener starts (the service reads it unlocked,
    // and a status request may come in the moment the port opens); it learns the listener
    // through an atomic once that exists.
    auto started = clock.now();
    std::atomic<net::ClientListener*> listenerRef{nullptr};
    service::CommitLog* logPtr = commitLog.get();
    chat.setStatusSource(
        [&clock, started, &listenerRef, logPtr, &listenerOptions, replicated, clusterPtr, nodeId] {
          net::ClientListener* listenerPtr = listenerRef.load();
          protocol::NodeStatus s;
          s.nodeId = nodeId;
          s.role = clusterPtr != nullptr ? replication::roleName(replicated->role()) : "standalone";
          s.epoch = logPtr->epoch();
          s.commitIndex = logPtr->commitIndex();
          s.appliedIndex = logPtr->commitIndex();
          s.uptimeMillis =
              std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - started).count();
          s.connections =
              listenerPtr != nullptr ? static_cast<uint32_t>(listenerPtr->connectionCount()) : 0;
          s.residentBytes = residentBytes();
          s.leaderAddress =
              listenerOptions.host + ":" +
              std::to_string(listenerPtr != nullptr ? listenerPtr->port() : listenerOptions.port);
          if (clusterPtr != nullptr) {
            replication::NodeId leader = replicated->leader();
            const cluster::NodeConfig* l = clusterPtr->node(leader);
            s.leaderAddress = l != nullptr ? l->clientAddress() : "";
            // Peers as this node sees them: the leader knows each follower's progress; a
            // follower knows only who leads.
            if (auto election = replicated->lastElection(); election.epoch != 0) {
              auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() -
                                                                               election.at);
              s.lastElection = "epoch " + std::to_string(election.epoch) + ", " +
                               std::to_string(ago.count() / 1000) + "." +
                               std::to_string(ago.count() % 1000 / 100) + " s ago: " +
                               election.cause;
            }
            auto progress = replicated->peerProgress();
            for (const auto& n : clusterPtr->nodes) {
              if (n.id == nodeId) {
                continue;
              }
              protocol::PeerStatus p{n.id, n.clientAddress(), n.id == leader ? "leader" : "unknown",
                                     0, n.id == leader};
              for (const auto& q : progress) {
                if (q.id == n.id) {
                  p.matchIndex = q.match;
                  p.reachable = q.reachable;
                  p.role = q.reachable ? "follower" : "unreachable";
                }
              }
              s.peers.push_back(std::move(p));
            }
          }
          return s;
        });
    auto listener = net::ClientListener::start(chat, listenerOptions);
    if (!listener) {
      log.error(listener.error().message());
      return EXIT_UNAVAILABLE;
    }
    listenerRef.store(listener->get());

    std::unique_ptr<admin::AdminServer> adminServer;
    NodeParts parts{nodeId, &chat, store->get(), logPtr, replicated, clusterPtr,
                    [&listenerRef] { return listenerRef.load()->connectionCount(); },
                    std::chrono::steady_clock::now()};
    int adminPort = config().getInt("node.admin_port", 0);
    if (adminPort < 0 || adminPort > 65535) {
      log.error("admin port " + std::to_string(adminPort) + " is out of range 1..65535");
      return EXIT_CONFIG;
    }
    if (adminPort != 0) {
      admin::AdminOptions adminOptions{
          config().getString("node.admin_host", listenerOptions.host),
          static_cast<uint16_t>(adminPort)};
      auto opened = admin::AdminServer::start(
          adminOptions, admin::AdminPages{[&parts] { return renderNodeMetrics(parts); },
                                          [&parts] { return nodeHealth(parts); }});
      if (!opened) {
        log.error(opened.error().message());
        return EXIT_UNAVAILABLE;
      }
      adminServer = std::move(opened).value();
      logEvent(log, Poco::Message::PRIO_INFORMATION, "admin_listening",
               {{"address", adminOptions.host + ":" + std::to_string(adminServer->port())}},
               "serving /metrics and /health");
    }

    std::string address = listenerOptions.host + ":" + std::to_string((*listener)->port());
    logEvent(log, Poco::Message::PRIO_INFORMATION, "listening",
             {{"address", address},
              {"node", std::to_string(nodeId)},
              {"db", dbPath},
              {"sync", sync},
              {"open_files", std::to_string(openFiles)},
              {"applied", std::to_string(logPtr->commitIndex())},
              {"tls", listenerOptions.tls ? "on" : "off"}},
             "chat-node listening on " + address);
    if (config().has("node.port_file")) {
      std::string portFile = config().getString("node.port_file");
      std::string tmp = portFile + ".tmp";
      {
        std::ofstream out(tmp);
        out << (*listener)->port() << "\n";
      }
      std::filesystem::rename(tmp, portFile, ec);  // atomic: readers never see half a file
    }
    waitForTerminationRequest();
    logEvent(log, Poco::Message::PRIO_INFORMATION, "stopping", {}, "chat-node shutting down");
    // Stop in dependency order: no new requests, then no hashing tasks, then no commits,
    // so nothing calls into the chat service after it is gone.
    adminServer.reset();
    listener->reset();
    slowWork.reset();
    commitLog.reset();
    socketTransport.reset();
    transport.reset();
  } catch (const Poco::Exception& e) {
    Poco::Logger::get(kLoggerName).fatal("chat-node failed: " + e.displayText());
    return EXIT_SOFTWARE;
  } catch (const std::exception& e) {
    Poco::Logger::get(kLoggerName).fatal(std::string("chat-node failed: ") + e.what());
    return EXIT_SOFTWARE;
  }
  return EXIT_OK;
}

}  // namespace chat::node
