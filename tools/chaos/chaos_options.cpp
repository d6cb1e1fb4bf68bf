#include "chaos_options.h"

#include <charconv>
#include <cstdlib>

namespace chat::chaos {

const char* const kChaosUsage =
    "usage: chat-chaos [--nodes N] [--seed S] [--seconds T] [--rate R] [--users U]\n"
    "                  [--fault-every-ms M] [--run-dir DIR] [--keep] [--json] [--quiet]\n"
    "                  [--partitions] [--request-timeout-ms T] [--room-percent P]\n"
    "                  [--supervisor PATH] [--node-binary PATH]\n"
    "\n"
    "Brings up a cluster of N nodes (3 or 5; default 3) under chat-supervisor, sends R\n"
    "messages a second (default 1000) between U users (default 8) for T seconds (default\n"
    "60), and injects a fault about every M ms (default 1000) on a schedule drawn from seed\n"
    "S: SIGKILL of the leader, SIGKILL of a replica, SIGSTOP then SIGCONT of a node, restart\n"
    "of a dead node, never more at once than leaves a majority; with --partitions (root)\n"
    "every node runs in a network namespace of its own and the leader is also cut off from\n"
    "its replicas for a while (clients can still reach it), then healed. Then it lets the cluster\n"
    "settle, drains every recipient and checks the whole history: every acknowledged\n"
    "message delivered exactly once and in send order per sender and recipient, nothing\n"
    "delivered that was never sent. Exit 0 when the history holds, 1 on any violation,\n"
    "2 when the run could not be made. The same seed replays the same schedule.\n"
    "--request-timeout-ms (default 30000): how long a client waits for a send before giving\n"
    "it up (a short one makes many sends unacknowledged, to test that path).\n"
    "--room-percent (default 20): the share of sends that go to #chaos, a room every user is\n"
    "in; each member must get each acknowledged room message exactly once, in the room's\n"
    "order (checked on its own line; 0 sends private messages only).\n";

namespace {

template <typename T>
Result<T> number(const char* option, const char* text, T lo, T hi) {
  T v{};
  const char* end = text + std::char_traits<char>::length(text);
  auto r = std::from_chars(text, end, v);
  if (r.ec != std::errc() || r.ptr != end || v < lo || v > hi) {
    return Status::invalidArgument(std::string(option) + " takes a number from " +
                                   std::to_string(lo) + " to " + std::to_string(hi) + ", not '" +
                                   text + "'");
  }
  return v;
}

}  // namespace

Result<ChaosOptions> parseChaosOptions(int argc, char** argv, bool& help) {
  ChaosOptions o;
  help = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      help = true;
      return o;
    }
    if (a == "--keep" || a == "--json" || a == "--quiet" || a == "--partitions") {
      (a == "--keep" ? o.keep : a == "--json" ? o.json : a == "--quiet" ? o.quiet : o.partitions) =
          true;
      continue;
    }
    if (i + 1 >= argc) {
      return Status::invalidArgument(a + (a.rfind("--", 0) == 0 ? " needs a value"
                                                               : ": unknown argument"));
    }
    const char* v = argv[++i];
    if (a == "--nodes") {
      auto n = number<int>("--nodes", v, 3, 7);
      if (!n) {
        return n.error();
      }
      o.nodes = *n;
    } else if (a == "--seed") {
      auto n = number<uint64_t>("--seed", v, 0, UINT64_MAX);
      if (!n) {
        return n.error();
      }
      o.seed = *n;
    } else if (a == "--seconds") {
      auto n = number<int>("--seconds", v, 1, 86400);
      if (!n) {
        return n.error();
      }
      o.seconds = *n;
    } else if (a == "--rate") {
      auto n = number<int>("--rate", v, 1, 100000);
      if (!n) {
        return n.error();
      }
      o.rate = *n;
    } else if (a == "--users") {
      auto n = number<int>("--users", v, 2, 1000);
      if (!n) {
        return n.error();
      }
      o.users = *n;
    } else if (a == "--fault-every-ms") {
      auto n = number<int>("--fault-every-ms", v, 50, 3600000);
      if (!n) {
        return n.error();
      }
      o.faultEvery = std::chrono::milliseconds(*n);
    } else if (a == "--request-timeout-ms") {
      auto n = number<int>("--request-timeout-ms", v, 100, 600000);
      if (!n) {
        return n.error();
      }
      o.requestTimeout = std::chrono::milliseconds(*n);
    } else if (a == "--room-percent") {
      auto n = number<int>("--room-percent", v, 0, 100);
      if (!n) {
        return n.error();
      }
      o.roomPercent = *n;
    } else if (a == "--run-dir") {
      o.runDir = v;
    } else if (a == "--supervisor") {
      o.supervisorBinary = v;
    } else if (a == "--node-binary") {
      o.nodeBinary = v;
    } else {
      return Status::invalidArgument("unknown option '" + a + "'");
    }
  }
  return o;
}

}  // namespace chat::chaos
