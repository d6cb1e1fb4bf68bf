// chat-supervisor: brings a cluster up from its cluster file, watches and restarts the
// nodes, and breaks them on request (docs/supervisor.md).
//   chat-supervisor [options]            supervise (headless: events as lines on stdout)
//   chat-supervisor ctl [--run-dir DIR] COMMAND...
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "chat/cluster/cluster_config.h"
#include "chat/common/terminal_text.h"
#include "chat/cluster/cluster_secret.h"
#include "chat/common/command_line.h"
#include "chat/common/process_info.h"
#include "chat/launcher/node_launcher.h"
#include "chat/launcher/port_check.h"
#include "chat/protocol/suite_version.h"
#include "chat/supervisor/control_socket.h"
#include "supervisor_host.h"
#include "supervisor_view.h"

namespace {

using namespace chat;
using namespace chat::supervisor;

const char* kUsage =
    "usage: chat-supervisor [options]\n"
    "       chat-supervisor ctl [--run-dir DIR] COMMAND...\n"
    "Starts every node of the cluster file, watches them, restarts them by policy, and\n"
    "tells the next node in line to stand for election the moment the leader dies.\n"
    "options:\n"
    "  --cluster FILE        the cluster file (default etc/cluster.ini)\n"
    "  --run-dir DIR         node logs and the control socket (default var/run)\n"
    "  --headless            no screen: events as lines on stdout (for scripts and CI;\n"
    "                        also when stdout is not a terminal)\n"
    "  --demo                killed nodes stay down until restarted by command\n"
    "  --detach              nodes keep running if the supervisor is killed\n"
    "  --watch               start no node: watch every node of the file over the network\n"
    "                        (they run on other hosts or under systemd); per node, the\n"
    "                        cluster file's supervise = watch does the same\n"
    "  --restart MODE        never | on-failure (default: the cluster file's [supervisor]\n"
    "                        restart, else on-failure)\n"
    "  --max-restarts N      give up on a node after N restarts within the period\n"
    "                        (default: max_restarts there, else 5)\n"
    "  --restart-period S    seconds of that period (restart_period_s there, else 60)\n"
    "  --node-binary PATH    chat-node to run (default: beside chat-supervisor, else PATH)\n"
    "  --node-arg ARG        pass ARG to every node (repeatable), e.g. --node-arg=--loops=2\n"
    "  --version             the suite's version and the protocol versions it speaks\n"
    "Every option may also be written --name=VALUE.\n"
    "ctl commands: status [--json] | kill leader | kill N | pause N | resume N |\n"
    "              restart N | restart all | stop   (--force confirms a kill or pause that\n"
    "              would leave no majority running)\n";

class HeadlessFrontend final : public Frontend {
 public:
  void onEvents(const std::vector<Event>& events) override {
    for (const auto& e : events) {
      auto wall = std::chrono::system_clock::now();
      std::time_t t = std::chrono::system_clock::to_time_t(wall);
      std::tm tm{};
      ::localtime_r(&t, &tm);
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()) %
                1000;
      // Events quote what nodes report (over the network, for watched ones): never raw.
      std::printf("%02d:%02d:%02d.%03d %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms.count()), chat::terminalSafe(e.text).c_str());
    }
    std::fflush(stdout);
  }
};

int runCtl(int argc, char** argv) {
  std::string runDir = "var/run";
  std::vector<std::string> words;
  CommandLine line("chat-supervisor ctl");
  line.text("--run-dir", runDir)
      .flag("--json", [&words] { words.emplace_back("json"); })
      .flag("--force", [&words] { words.emplace_back("force"); })
      .words(words);
  // Never falls back to var/run when told otherwise: a bad option is refused, not sent on.
  if (auto exit = finishCommandLine("chat-supervisor ctl", line.parse(argc, argv, 2), kUsage,
                                    protocol::versionText("chat-supervisor"))) {
    return *exit;
  }
  if (words.empty()) {
    std::cerr << "chat-supervisor ctl: which command? see --help\n";
    return 2;
  }
  std::string request;
  for (const auto& w : words) {
    request += (request.empty() ? "" : " ") + w;
  }
  auto answer = controlRequest(runDir + "/control.sock", request, std::chrono::seconds(5));
  if (!answer) {
    std::cerr << "chat-supervisor ctl: " << answer.error().message() << "\n";
    return 1;
  }
  const std::string& text = *answer;
  if (text.rfind("OK", 0) == 0) {
    // "OK\n<body>" or "OK <message>\n"
    std::string rest = text.substr(2);
    if (!rest.empty() && (rest[0] == '\n' || rest[0] == ' ')) {
      rest.erase(0, 1);
    }
    std::cout << rest;
    return 0;
  }
  std::cerr << "chat-supervisor ctl: " << text;
  if (text.rfind("CONFIRM", 0) == 0) {
    std::cerr << "(run it again with --force to go ahead)\n";
    return 3;
  }
  return 1;
}

// The cluster secret, made first when the cluster file names a secret_file that does not
// exist yet and this supervisor runs every node itself (tools/run, tools/demo): a fresh
// checkout then just works, with a secret of its own that never was in git. A cluster
// with nodes elsewhere shares one secret, so there a missing file is an error.
Status prepareSecret(cluster::ClusterConfig& config, bool watchAll) {
  bool spawnsAll = !watchAll;
  for (const auto& n : config.nodes) {
    spawnsAll = spawnsAll && n.supervise != "watch";
  }
  std::error_code ec;
  if (spawnsAll && !config.secretFile.empty() &&
      !std::filesystem::exists(config.secretFile, ec)) {
    CHAT_RETURN_IF_ERROR(cluster::makeSecretFile(config.secretFile));
    std::cerr << "chat-supervisor: made a new cluster secret in " << config.secretFile
              << " (readable by you only; every node of this cluster reads it)\n";
  }
  return cluster::loadClusterSecret(config);
}

// Before any node starts: the ports of the nodes this supervisor runs that something else
// holds already, each with its holder when /proc tells, and what to do; exit 2 then.
int refuseTakenPorts(const HostOptions& o) {
  std::vector<launcher::PortUse> uses;
  for (const auto& n : o.config.nodes) {
    if (o.policy.watched.count(n.id) > 0) {
      continue;
    }
    std::string node = "node " + std::to_string(n.id) + "'s ";
    uses.push_back({n.host, n.clientPort, node + "client port"});
    uses.push_back({n.host, n.peerPort, node + "peer port"});
    uses.push_back({n.host, n.adminPort, node + "admin port"});  // 0 (off) is skipped
  }
  auto taken = launcher::takenPorts(uses);
  if (taken.empty()) {
    return 0;
  }
  bool ourNodes = false;
  for (const auto& t : taken) {
    std::cerr << "chat-supervisor: port " << t.use.port << " on " << t.use.host << " ("
              << t.use.what << " in " << o.clusterFile << ") is taken";
    if (t.pid != 0) {
      std::cerr << " by process " << t.pid << " (" << terminalSafe(t.process) << ")\n";
      ourNodes = ourNodes || t.process == "chat-node";
    } else {
      std::cerr << " by a process this user cannot see (as root: ss -ltnp 'sport = :"
                << t.use.port << "')\n";
    }
  }
  if (ourNodes && controlRequest(o.runDir + "/control.sock", "status", std::chrono::seconds(1))) {
    std::cerr << "A chat-supervisor already runs this cluster (--run-dir " << o.runDir
              << "): see it with chat-supervisor ctl --run-dir " << o.runDir
              << " status, stop it with ... ctl --run-dir " << o.runDir << " stop.\n";
  } else if (ourNodes) {
    std::cerr << "A chat-node still runs there, perhaps from an earlier chat-supervisor "
                 "--detach: stop it with chat-supervisor ctl --run-dir DIR stop, or kill it.\n";
  }
  std::cerr << "No node was started. Stop what holds the port, or give this cluster other "
               "ports: copy "
            << o.clusterFile
            << ", change client_port, peer_port (and admin_port) of its nodes, and start with "
               "--cluster YOUR-COPY (tools/run --cluster YOUR-COPY).\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  chat::keepNewFilesPrivate();  // umask 077: what we write holds messages and secrets
  if (argc > 1 && std::string(argv[1]) == "ctl") {
    return runCtl(argc, argv);
  }
  HostOptions o;
  o.clusterFile = "etc/cluster.ini";
  o.runDir = "var/run";
  int maxRestarts = -1;  // -1: from the cluster file
  bool watchAll = false;
  bool headless = false;
  std::string restartMode;  // empty: from the cluster file
  int period = -1;
  CommandLine line("chat-supervisor");
  line.text("--cluster", o.clusterFile)
      .text("--run-dir", o.runDir)
      .flag("--headless", headless)
      .flag("--demo", o.policy.demo)
      .flag("--detach", o.detach)
      .flag("--watch", watchAll)
      .option("--restart",
              [&restartMode](const std::string& v) {
                restartMode = v;
                auto mode = parseRestartMode(v);
                return mode ? Status::ok() : mode.error();
              })
      .number("--max-restarts", maxRestarts, 0, 1000000)
      .number("--restart-period", period, 0, 1000000)
      .text("--node-binary", o.nodeBinary)
      .option("--node-arg", [&o](const std::string& v) {
        o.nodeArgs.push_back(v);
        return Status::ok();
      });
  if (auto exit = finishCommandLine("chat-supervisor", line.parse(argc, argv), kUsage,
                                    protocol::versionText("chat-supervisor"))) {
    return *exit;
  }
  auto config = cluster::loadClusterConfig(o.clusterFile);
  if (!config) {
    std::cerr << "chat-supervisor: " << config.error().message() << "\n";
    return 2;
  }
  o.config = std::move(config).value();
  if (Status secret = prepareSecret(o.config, watchAll); !secret.isOk()) {
    std::cerr << "chat-supervisor: " << secret.message() << "\n";
    return 2;
  }
  if (!o.config.tlsCa.empty()) {
    auto tls = tls::TlsContext::client({o.config.tlsCa});
    if (!tls) {
      std::cerr << "chat-supervisor: [cluster] tls_ca: " << tls.error().message() << "\n";
      return 2;
    }
    o.tls = std::move(tls).value();
  }
  // The cluster file's [supervisor] section, overridden by flags.
  auto mode = parseRestartMode(restartMode.empty() ? o.config.supervisor.restart : restartMode);
  if (!mode) {
    std::cerr << "chat-supervisor: " << mode.error().message() << "\n";
    return 2;
  }
  o.policy.restart.mode = *mode;
  o.policy.restart.intensity = maxRestarts >= 0 ? maxRestarts : o.config.supervisor.maxRestarts;
  o.policy.restart.period = period >= 0 ? std::chrono::seconds(period)
                                        : std::chrono::seconds(o.config.supervisor.restartPeriod);
  for (const auto& n : o.config.nodes) {
    o.policy.nodes.push_back(n.id);
    // A node's own restart key, unless --restart was given for all.
    if (!n.restart.empty() && restartMode.empty()) {
      o.policy.restartModes[n.id] = *parseRestartMode(n.restart);
    }
    if (watchAll || n.supervise == "watch") {
      o.policy.watched.insert(n.id);
    }
  }
  bool spawnsAny = o.policy.watched.size() < o.config.nodes.size();
  if (o.nodeBinary.empty()) {
    o.nodeBinary = launcher::findChatNode();
  }
  if (spawnsAny && ::access(o.nodeBinary.c_str(), X_OK) != 0) {
    std::cerr << "chat-supervisor: cannot run " << o.nodeBinary
              << "; build it (tools/build) or name it with --node-binary\n";
    return 2;
  }
  if (int refused = refuseTakenPorts(o); refused != 0) {
    return refused;
  }
  std::string clusterFile = o.clusterFile;
  // tools/run names its client script; installed, the client is chat-tui on the PATH.
  const char* client = std::getenv("CHAT_CLIENT_COMMAND");
  std::string clientHint = std::string(client != nullptr && *client != '\0' ? client : "chat-tui") +
                           " --cluster " + clusterFile;
  SupervisorHost host(std::move(o));
  if (headless || ::isatty(STDOUT_FILENO) == 0 || ::isatty(STDIN_FILENO) == 0) {
    HeadlessFrontend frontend;
    std::printf("chat-supervisor: open a client in another terminal: %s; Ctrl+C stops every "
                "node\n",
                terminalSafe(clientHint).c_str());
    std::fflush(stdout);
    return host.run(frontend);
  }
  SupervisorView view(clusterFile, clientHint);
  return host.run(view);
}
