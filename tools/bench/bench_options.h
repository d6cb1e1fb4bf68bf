// chat-bench command-line options and their parsing.
#ifndef CHAT_TOOLS_BENCH_BENCH_OPTIONS_H_
#define CHAT_TOOLS_BENCH_BENCH_OPTIONS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat/common/command_line.h"
#include "chat/common/status.h"
#include "chat/tls/tls_stream.h"

namespace chat::bench {

// What --servers speaks: chat-node, or a server users would compare it with.
enum class BenchProtocol { kChat, kIrc, kRedis };

struct BenchOptions {
  BenchProtocol protocol = BenchProtocol::kChat;
  // --irc-oper NAME:PASSWORD: the IRC clients become operators and lift their own flood
  // protection (user mode F), so the IRC server is measured at its speed, not its throttle.
  std::string ircOper;
  std::vector<std::string> servers;  // host:port of every node, in succession order
  int pairs = 50;
  // --room N: one room of N members instead of pairs; the first `roomSenders` of them send.
  int roomMembers = 0;
  int roomSenders = 10;
  int64_t messages = 1000;  // per sender, in throughput mode
  size_t size = 100;        // body bytes
  int window = 1;           // sends in flight per sender
  double rate = 0;          // messages/s over all senders; 0 = as fast as the window allows
  double duration = 0;      // seconds, with --rate
  int threads = 2;
  bool json = false;
  std::string password = "bench-pw";
  int connectTimeoutMs = 5000;
  int idleConnections = 0;  // extra logged-in connections that do nothing (memory test)
  int holdSeconds = 0;      // keep idle connections open this long after the run
  // Failover mode: start the cluster of `clusterFile` and SIGKILL its leader this many
  // times, measuring from each kill to the first acknowledged send of a connected client.
  int failoverKills = 0;
  std::string clusterFile;
  std::string nodeBinary;  // chat-node; default: beside chat-bench in the build tree, or PATH
  std::string runDir;      // node logs; default: a temporary folder
  bool campaign = false;   // after each kill, ask the next in line to stand at once
  std::string nodeLogLevel = "warning";
  // Failover through a running chat-supervisor (its --run-dir): it started the nodes, kills
  // the leader on `ctl kill leader`, hints the election and restarts the node itself.
  std::string supervisorRunDir;
  // --tls-ca: the nodes speak TLS; their certificates must chain to this CA.
  std::string tlsCa;
  // --await S: only wait (up to S seconds) until the node answers a status request, and say
  // how long that took (the restart measurement of tools/benchmarks).
  double awaitSeconds = 0;
  std::shared_ptr<tls::TlsContext> tls;
};

// Parses argv into `out`: kRun when the options make a run, kHelp / kVersion when asked for;
// kInvalidArgument with a sentence naming the bad option or the missing one.
Result<CommandLine::Outcome> parseBenchOptions(int argc, char** argv, BenchOptions& out);
const char* benchUsage();

}  // namespace chat::bench

#endif  // CHAT_TOOLS_BENCH_BENCH_OPTIONS_H_
