#include "chaos_options.h"


namespace chat::chaos {

const char* const kChaosUsage =
    "usage: chat-chaos [options]\n"
    "\n"
    "Brings up a cluster under chat-supervisor, sends messages between users under load, and\n"
    "injects faults on a schedule drawn from a seed: SIGKILL of the leader, SIGKILL of a\n"
    "replica, SIGSTOP then SIGCONT of a node, restart of a dead node, never more at once than\n"
    "leaves a majority. Then it lets the cluster settle, drains every recipient and checks the\n"
    "whole history: every acknowledged message delivered exactly once and in send order per\n"
    "sender and recipient, nothing delivered that was never sent. Exit 0 when the history\n"
    "holds, 1 on any violation, 2 when the run could not be made. The same seed replays the\n"
    "same schedule.\n"
    "\n"
    "  --nodes N             nodes in the cluster, 3 to 7 (default 3; ports chosen free)\n"
    "  --seed S              the fault schedule's seed (default: a random one, printed)\n"
    "  --seconds T           seconds of load and faults (default 60)\n"
    "  --rate R              messages a second, all users together (default 1000)\n"
    "  --users U             users, each sending to the others (default 8)\n"
    "  --fault-every-ms M    mean time between faults (default 1000)\n"
    "  --partitions          (root) every node in a network namespace of its own, and the\n"
    "                        leader also cut off from its replicas for a while, then healed\n"
    "  --request-timeout-ms T  how long a client waits for a send before giving it up\n"
    "                        (default 30000; a short one makes many sends unacknowledged)\n"
    "  --room-percent P      the share of sends that go to #chaos, a room every user is in;\n"
    "                        each member must get each acknowledged room message exactly\n"
    "                        once, in the room's order (default 20; 0: private only)\n"
    "  --run-dir DIR         cluster file, node data and logs (default: a temporary folder)\n"
    "  --keep                keep the run folder afterwards\n"
    "  --json                print the result as one JSON object\n"
    "  --quiet               no progress lines\n"
    "  --supervisor PATH     chat-supervisor to run (default: the suite's)\n"
    "  --node-binary PATH    chat-node to run (default: the suite's)\n"
    "  --version             the suite's version and the protocol versions it speaks\n"
    "Every option may also be written --name=VALUE.\n";

Result<CommandLine::Outcome> parseChaosOptions(int argc, char** argv, ChaosOptions& o) {
  int faultEveryMs = static_cast<int>(o.faultEvery.count());
  int requestTimeoutMs = static_cast<int>(o.requestTimeout.count());
  CommandLine line("chat-chaos");
  line.number("--nodes", o.nodes, 3, 7)
      .number<uint64_t>("--seed", o.seed, 0, UINT64_MAX)
      .number("--seconds", o.seconds, 1.0, 86400.0)
      .number("--rate", o.rate, 1, 100000)
      .number("--users", o.users, 2, 1000)
      .number("--fault-every-ms", faultEveryMs, 50, 3600000)
      .number("--request-timeout-ms", requestTimeoutMs, 100, 600000)
      .number("--room-percent", o.roomPercent, 0, 100)
      .text("--run-dir", o.runDir)
      .flag("--keep", o.keep)
      .flag("--json", o.json)
      .flag("--quiet", o.quiet)
      .flag("--partitions", o.partitions)
      .text("--supervisor", o.supervisorBinary)
      .text("--node-binary", o.nodeBinary);
  auto parsed = line.parse(argc, argv);
  o.faultEvery = std::chrono::milliseconds(faultEveryMs);
  o.requestTimeout = std::chrono::milliseconds(requestTimeoutMs);
  return parsed;
}

}  // namespace chat::chaos
