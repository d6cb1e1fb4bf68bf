#include "chat_node_app.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
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
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionProcessor.h>
#include <Poco/Util/OptionSet.h>

#include "chat/common/command_line.h"
#include "chat/common/kv_log.h"
#include "chat/cluster/cluster_config.h"
#include "chat/cluster/cluster_secret.h"
#include "chat/common/process_info.h"
#include "chat/protocol/suite_version.h"
#include "chat/service/password_hasher.h"
#include "node.h"

namespace chat::node {

using Poco::Util::Option;
using Poco::Util::OptionCallback;

namespace {
constexpr const char* kLoggerName = "chat";

// For --check: `path` can be written, or made by this user (its nearest existing folder
// is writable), without making it.
Status writableOrCreatable(const std::string& path, const std::string& setting) {
  std::filesystem::path p = std::filesystem::absolute(path);
  std::error_code ec;
  while (!std::filesystem::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) {
    p = p.parent_path();
  }
  if (::access(p.c_str(), W_OK) != 0) {
    return Status::invalidArgument(setting + " " + path + " cannot be written by this user (" +
                                   p.string() + ": " + std::strerror(errno) + ")");
  }
  return Status::ok();
}
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
  options.addOption(
      Option("version", "", "print the suite's version and the protocol versions, and exit")
          .required(false)
          .repeatable(false)
          .callback(OptionCallback<ChatNodeApp>(this, &ChatNodeApp::handleVersion)));
  options.addOption(
      Option("check", "",
             "check the settings, the cluster file, its secret and that the data folder and log "
             "file can be written; say so and exit without serving (0: all hold)")
          .required(false)
          .repeatable(false)
          .callback(OptionCallback<ChatNodeApp>(this, &ChatNodeApp::handleCheck)));
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
  setting("login-timeout", "SECONDS",
          "close a connection not logged in that completes no request this long (default 60)");
  setting("max-connections", "N",
          "client connections in all (default: the open-file limit less 256)");
  setting("max-connections-per-address", "N",
          "client connections from one address (default 256; 0: no cap)");
  setting("sign-ups-per-minute", "N",
          "accounts one address may create a minute, after a burst of as many (default 30; "
          "0: no limit, for benchmarks)");
  setting("sends-per-second", "N",
          "messages one account may send a second, after a burst of ten seconds' worth "
          "(default 50; 0: no limit, for benchmarks)");
  setting("max-frame-bytes", "N", "largest frame accepted (default 65536)");
  setting("max-output-bytes", "N",
          "disconnect a client with more unread output than this (default 8388608)");
  setting("admin-port", "P",
          "serve HTTP /metrics (Prometheus) and /health on port P (default: off)");
  setting("admin-host", "HOST",
          "address of the admin port (default 127.0.0.1: it has no authentication)");
  setting("tls-cert", "FILE",
          "serve the client port over TLS only, with this certificate chain (PEM)");
  setting("tls-key", "FILE", "the private key of --tls-cert (PEM)");
  setting("log-file", "FILE", "the log file (default DATA_DIR/chat-node.log)");
  setting("log-rotation", "WHEN",
          "rotate the log file: never, a size (500 K, 10 M; the default), daily, weekly");
  setting("log-keep", "N", "rotated log files kept (default 5)");
}

void ChatNodeApp::printHelp(const Poco::Util::OptionSet& options, std::ostream& out) const {
  Poco::Util::HelpFormatter help(options);
  help.setCommand("chat-node");  // not commandName(): this may run before Poco's init
  help.setUsage("[options]");
  help.setUnixStyle(true);
  help.setHeader(std::string("chat-node ") + protocol::suiteVersion() +
                 ": a chat server. Accounts, private messages, rooms and history, replicated "
                 "by Raft and kept in SQLite. Every option may also be written --name VALUE.");
  help.setFooter("Settings may also come from a config file: see etc/chat-node.properties.");
  help.format(out);
}

void ChatNodeApp::handleHelp(const std::string&, const std::string&) {
  answered_ = true;
  printHelp(options(), std::cout);
  stopOptionsProcessing();
}

void ChatNodeApp::handleVersion(const std::string&, const std::string&) {
  answered_ = true;
  std::cout << protocol::versionText("chat-node");
  stopOptionsProcessing();
}

std::optional<int> ChatNodeApp::refuseBadCommandLine(int argc, char** argv) {
  // The same option set Poco will process, checked here first: Poco would log an unknown
  // option and exit 78 (EX_CONFIG) without the usage, and take a stray word as an argument.
  Poco::Util::OptionSet set;
  defineOptions(set);
  Poco::Util::OptionProcessor processor(set);
  processor.setUnixStyle(true);
  std::string error;
  for (int i = 1; i < argc && error.empty(); ++i) {
    std::string name;
    std::string value;
    try {
      if (!processor.process(argv[i], name, value)) {
        error = std::string("unexpected argument '") + argv[i] +
                "' (every option starts with --)";
      } else if (name == "help" || name == "version") {
        return std::nullopt;  // answered by Poco's run, whatever follows
      }
    } catch (const Poco::Util::UnknownOptionException& e) {
      error = "unknown option " + std::string(argv[i]).substr(0, std::string(argv[i]).find('='));
    } catch (const Poco::Util::MissingArgumentException& e) {
      error = std::string(argv[i]) + " needs a value";
    } catch (const Poco::Exception& e) {
      error = e.displayText();
    }
  }
  if (error.empty()) {
    try {
      processor.checkRequired();  // also: the last option still waiting for its value
    } catch (const Poco::Exception& e) {
      error = std::string(argv[argc - 1]) + " needs a value";
    }
  }
  if (error.empty()) {
    return std::nullopt;
  }
  // The sentence last: a supervisor reporting a node that died shows the end of its output.
  printHelp(set, std::cerr);
  std::cerr << "chat-node: " << error << " (the options are above)\n";
  return 2;
}

void ChatNodeApp::handleCheck(const std::string&, const std::string&) {
  checkOnly_ = true;
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

Status ChatNodeApp::setupLogging(bool checkOnly) {
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
  // Created here, never through a symbolic link (one planted where the log goes would make
  // the node write wherever it points); Poco's channel then appends to this file.
  if (checkOnly) {
    CHAT_RETURN_IF_ERROR(writableOrCreatable(path, "log_file"));
  }
  int fd = checkOnly ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                     : ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                              0600);
  if (fd < 0) {
    int err = errno;
    return Status::invalidArgument(
        "log_file " + path + " cannot be opened (" + std::strerror(err) + ")" +
        (err == ELOOP ? "; it is a symbolic link, which chat-node never writes through" : ""));
  }
  ::close(fd);
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
    if (checkOnly) {
      return Status::ok();  // every setting parsed; the console stays the only channel
    }
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
  if (answered_) {
    return EXIT_OK;  // --help or --version
  }
  if (!args.empty()) {  // refuseBadCommandLine ran first; kept for safety
    std::cerr << "chat-node: unexpected argument '" << args.front() << "'; see chat-node --help\n";
    return 2;
  }
  try {
    NodeSettings settings;
    if (int code = readSettings(settings); code != EXIT_OK) {
      return code;
    }
    if (checkOnly_) {
      std::cout << "chat-node: the settings hold: "
                << (settings.cluster ? "node " + std::to_string(settings.nodeId) + " of " +
                                           config().getString("node.cluster") + ", "
                                     : std::string("a single node, "))
                << "client port " << settings.host << ":" << settings.port << ", data in "
                << settings.dataDir << "\n";
      return EXIT_OK;
    }
    Poco::Logger& log = Poco::Logger::get(kLoggerName);
    uint64_t openFiles = raiseOpenFileLimit();
    auto node = Node::start(settings);
    if (!node) {
      log.error(node.error().message());
      return exitCodeFor(node.error());
    }
    std::string address = settings.host + ":" + std::to_string((*node)->port());
    logEvent(log, Poco::Message::PRIO_INFORMATION, "listening",
             {{"address", address},
              {"node", std::to_string(settings.nodeId)},
              {"db", settings.dataDir + "/chat.db"},
              {"sync", settings.syncChatDb ? "full" : "normal"},
              {"open_files", std::to_string(openFiles)},
              {"applied", std::to_string((*node)->appliedIndex())},
              {"tls", settings.tlsCert.empty() ? "off" : "on"}},
             "chat-node listening on " + address);
    if (config().has("node.port_file")) {
      std::string portFile = config().getString("node.port_file");
      std::string tmp = portFile + ".tmp";
      {
        std::ofstream out(tmp);
        out << (*node)->port() << "\n";
      }
      std::error_code ec;
      std::filesystem::rename(tmp, portFile, ec);  // atomic: readers never see half a file
    }
    waitForTerminationRequest();
    logEvent(log, Poco::Message::PRIO_INFORMATION, "stopping", {}, "chat-node shutting down");
    node->reset();
  } catch (const Poco::Exception& e) {
    Poco::Logger::get(kLoggerName).fatal("chat-node failed: " + e.displayText());
    return EXIT_SOFTWARE;
  } catch (const std::exception& e) {
    Poco::Logger::get(kLoggerName).fatal(std::string("chat-node failed: ") + e.what());
    return EXIT_SOFTWARE;
  }
  return EXIT_OK;
}

namespace {

// The whole-number settings and the values each may take; 0, where allowed, means off or no
// limit (see --help). Checked before anything else reads them, so that a wrong one is named
// with its range instead of Poco's "Syntax error: Not a valid integer" or a silent wrap.
struct WholeNumberRange {
  const char* key;  // under "node."
  int64_t min;
  int64_t max;
};
constexpr WholeNumberRange kWholeNumbers[] = {
    {"id", 0, UINT32_MAX},
    {"port", 0, 65535},
    {"loops", 1, 64},
    {"idle_timeout", 1, 31'536'000},
    {"login_timeout", 1, 86'400},
    {"max_connections", 0, 100'000'000},
    {"max_connections_per_address", 0, 100'000'000},
    {"sign_ups_per_minute", 0, 1'000'000},
    {"sends_per_second", 0, 1'000'000},
    // A binary frame's length starts with a zero byte (how binary is told from text lines).
    {"max_frame_bytes", 1024, 16'777'215},
    {"max_output_bytes", 16'384, int64_t{1} << 32},
    {"admin_port", 0, 65535},
    {"session_hours", 1, 8760},
};

}  // namespace

Status ChatNodeApp::checkWholeNumbers() {
  for (const auto& [key, min, max] : kWholeNumbers) {
    std::string name = std::string("node.") + key;
    if (!config().has(name)) {
      continue;
    }
    std::string text = config().getString(name);
    if (!numberIn<int64_t>(text, min, max)) {
      std::string option = key;
      std::replace(option.begin(), option.end(), '_', '-');
      return Status::invalidArgument("--" + option + " (" + key +
                                     " in a config file) takes a whole number from " +
                                     std::to_string(min) + " to " + std::to_string(max) +
                                     ", not '" + text + "'");
    }
  }
  return Status::ok();
}

int64_t ChatNodeApp::wholeNumber(const char* key, int64_t fallback) {
  return config().getInt64(std::string("node.") + key, fallback);  // checkWholeNumbers ran
}

Status ChatNodeApp::readClusterFile(NodeSettings& settings) {
  auto loaded = cluster::loadClusterConfig(config().getString("node.cluster"));
  if (!loaded) {
    return loaded.error();
  }
  // A node never runs with a secret others could know (cluster_secret.h).
  CHAT_RETURN_IF_ERROR(cluster::loadClusterSecret(*loaded));
  settings.nodeId = static_cast<uint32_t>(wholeNumber("id", 0));
  const cluster::NodeConfig* self = loaded->node(settings.nodeId);
  if (self == nullptr) {
    return Status::invalidArgument("--id " + std::to_string(settings.nodeId) +
                                   " is not a node of " + config().getString("node.cluster") +
                                   "; give --id with one of its ids");
  }
  // The cluster file says where this node listens and keeps its data.
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
  settings.cluster = std::move(loaded).value();
  return Status::ok();
}

Status ChatNodeApp::prepareDataDir(NodeSettings& settings) {
  settings.dataDir = config().getString("node.data_dir", "var/node");
  if (checkOnly_) {
    return writableOrCreatable(settings.dataDir, "data_dir");
  }
  std::error_code ec;
  std::filesystem::create_directories(settings.dataDir, ec);
  if (ec) {
    return Status::ioError("cannot create the data folder " + settings.dataDir + ": " +
                           ec.message());
  }
  return Status::ok();
}

Status ChatNodeApp::readServiceSettings(NodeSettings& settings) {
  auto cost = service::parseHashCost(config().getString("node.password_hash", "interactive"));
  if (!cost) {
    return cost.error();
  }
  settings.passwordHash = *cost;
  std::string sync = config().getString("node.sync", "normal");
  if (sync != "full" && sync != "normal") {
    return Status::invalidArgument("--sync takes full or normal, not '" + sync + "'");
  }
  settings.syncChatDb = sync == "full";
  settings.port = static_cast<uint16_t>(wholeNumber("port", 7001));
  settings.host = config().getString("node.host", "127.0.0.1");
  settings.limits.maxFrameBytes = static_cast<size_t>(wholeNumber("max_frame_bytes", int64_t{64} << 10));
  settings.maxOutputBytes = static_cast<size_t>(wholeNumber("max_output_bytes", int64_t{8} << 20));
  settings.sessionLifetime = std::chrono::hours(wholeNumber("session_hours", 24));
  // One loop per two cores: the commit and archive threads and the hashing workers need the
  // rest.
  int64_t defaultLoops = std::max(1U, std::thread::hardware_concurrency() / 2);
  settings.loops = static_cast<int>(wholeNumber("loops", defaultLoops));
  settings.idleTimeout = std::chrono::seconds(wholeNumber("idle_timeout", 1800));
  settings.loginTimeout = std::chrono::seconds(wholeNumber("login_timeout", 60));
  settings.maxConnections = static_cast<size_t>(wholeNumber("max_connections", 0));
  settings.maxConnectionsPerAddress =
      static_cast<size_t>(wholeNumber("max_connections_per_address", 256));
  settings.signUpsPerMinute = static_cast<uint32_t>(wholeNumber("sign_ups_per_minute", 30));
  settings.sendsPerSecond = static_cast<uint32_t>(wholeNumber("sends_per_second", 50));
  if (config().has("node.tls_cert") || config().has("node.tls_key")) {
    settings.tlsCert = config().getString("node.tls_cert", "");
    settings.tlsKey = config().getString("node.tls_key", "");
    if (settings.tlsCert.empty() || settings.tlsKey.empty()) {
      return Status::invalidArgument("TLS needs both --tls-cert and --tls-key (PEM files)");
    }
  }
  settings.adminPort = static_cast<uint16_t>(wholeNumber("admin_port", 0));
  // Loopback unless asked: /metrics and /health have no authentication.
  settings.adminHost = config().getString("node.admin_host", "127.0.0.1");
  return Status::ok();
}

int ChatNodeApp::readSettings(NodeSettings& settings) {
  auto refuse = [](const Status& why, int code) {
    std::cerr << "chat-node: " << why.message() << "\n";
    return code;
  };
  if (Status numbers = checkWholeNumbers(); !numbers.isOk()) {
    return refuse(numbers, EXIT_CONFIG);
  }
  if (config().has("node.cluster")) {
    if (Status cluster = readClusterFile(settings); !cluster.isOk()) {
      return refuse(cluster, EXIT_CONFIG);
    }
  }
  if (Status folder = prepareDataDir(settings); !folder.isOk()) {
    return refuse(folder, EXIT_CANTCREAT);
  }
  if (Status logging = setupLogging(checkOnly_); !logging.isOk()) {
    return refuse(logging, EXIT_CONFIG);
  }
  if (Status service = readServiceSettings(settings); !service.isOk()) {
    return refuse(service, EXIT_CONFIG);
  }
  return EXIT_OK;
}

}  // namespace chat::node
