#include "bench_options.h"

#include <sstream>

namespace chat::bench {

const char* benchUsage() {
  return "usage: chat-bench --servers HOST:PORT[,...] [options]\n"
         "  --servers LIST   the nodes as host:port,host:port, in succession order (required\n"
         "                   except in failover mode)\n"
         "  --pairs N        senders and as many recipients (default 50)\n"
         "  --messages M     messages per sender in throughput mode (default 1000)\n"
         "  --size B         body bytes (default 100)\n"
         "  --window W       sends in flight per sender (default 1)\n"
         "  --rate R         fixed total rate in messages/s (latency run), with --duration\n"
         "  --duration S     seconds to hold --rate\n"
         "  --threads T      client threads (default 2)\n"
         "  --room N         one room of N members (all online) instead of pairs; prints the\n"
         "                   fan-out (deliveries/s) and the latency to each member and to the last\n"
         "  --senders S      with --room: how many of the members send to it (default 10)\n"
         "  --idle N         also log in N idle connections and report the node's memory\n"
         "  --hold S         keep the idle connections open S seconds after the run\n"
         "  --json           print one JSON object instead of text\n"
         "  --tls-ca FILE    the nodes speak TLS: check their certificates against this CA\n"
         "  --await S        only wait up to S seconds until the node answers; print how long\n"
         "  --protocol P     chat (default), irc (each pair two nicks, PRIVMSG) or redis (pub/sub,\n"
         "                   a channel per pair): the same load against what users compare with\n"
         "  --irc-oper N:PW  with irc: become operator N and lift the flood protection (mode F)\n"
         "failover mode (starts its own cluster; --servers not needed):\n"
         "  --failover K     SIGKILL the leader K times; print the time from each kill to the\n"
         "                   first acknowledged send of an already-connected client\n"
         "  --cluster FILE   the cluster file to start (its data folders are used as they are)\n"
         "  --node-binary P  chat-node to run (default: beside chat-bench, else on PATH)\n"
         "  --run-dir DIR    where node logs go (default: a temporary folder)\n"
         "  --supervisor DIR  kill through the chat-supervisor whose --run-dir is DIR (it runs\n"
         "                   the nodes of --cluster FILE, hints and restarts) instead of\n"
         "                   starting nodes here\n"
         "  --node-log-level L  the nodes' --log-level (default warning; information shows\n"
         "                   every election)\n"
         "  --campaign       after each kill, ask the next node in line to stand at once (what\n"
         "                   chat-supervisor does) instead of waiting for its election timeout\n"
         "  --version        the suite's version and the protocol versions it speaks\n"
         "Every option may also be written --name=VALUE.\n"
         "The node should run with --password-hash min: the bench creates many accounts.\n";
}

Result<CommandLine::Outcome> parseBenchOptions(int argc, char** argv, BenchOptions& o) {
  CommandLine line("chat-bench");
  line.option("--servers",
              [&o](const std::string& v) {
                std::stringstream ss(v);
                std::string item;
                while (std::getline(ss, item, ',')) {
                  if (!item.empty()) {
                    o.servers.push_back(item);
                  }
                }
                return Status::ok();
              })
      .number("--pairs", o.pairs, 1, 100000)
      .number<int64_t>("--messages", o.messages, 1, int64_t{1} << 40)
      .number<size_t>("--size", o.size, 24, 4000)
      .number("--window", o.window, 1, 100000)
      .number("--rate", o.rate, 0.0, 1e8)
      .number("--duration", o.duration, 0.0, 1e6)
      .number("--threads", o.threads, 1, 256)
      .number("--room", o.roomMembers, 2, 1000)
      .number("--senders", o.roomSenders, 1, 1000)
      .number("--idle", o.idleConnections, 0, 1000000)
      .number("--hold", o.holdSeconds, 0, 1000000)
      .flag("--json", o.json)
      .option("--tls-ca",
              [&o](const std::string& v) {
                o.tlsCa = v;
                auto tls = tls::TlsContext::client({o.tlsCa});
                if (!tls) {
                  return Status::invalidArgument("--tls-ca: " + tls.error().message());
                }
                o.tls = std::move(tls).value();
                return Status::ok();
              })
      .number("--await", o.awaitSeconds, 0.0, 3600.0)
      .option("--protocol",
              [&o](const std::string& p) {
                if (p == "chat") {
                  o.protocol = BenchProtocol::kChat;
                } else if (p == "irc") {
                  o.protocol = BenchProtocol::kIrc;
                } else if (p == "redis") {
                  o.protocol = BenchProtocol::kRedis;
                } else {
                  return Status::invalidArgument("--protocol must be chat, irc or redis, not '" +
                                                 p + "'");
                }
                return Status::ok();
              })
      .option("--irc-oper",
              [&o](const std::string& v) {
                o.ircOper = v;
                return v.find(':') == std::string::npos
                           ? Status::invalidArgument("--irc-oper takes NAME:PASSWORD")
                           : Status::ok();
              })
      .number("--failover", o.failoverKills, 1, 10000)
      .text("--cluster", o.clusterFile)
      .text("--node-binary", o.nodeBinary)
      .text("--run-dir", o.runDir)
      .text("--supervisor", o.supervisorRunDir)
      .text("--node-log-level", o.nodeLogLevel)
      .flag("--campaign", o.campaign);
  auto parsed = line.parse(argc, argv);
  if (!parsed || *parsed != CommandLine::Outcome::kRun) {
    return parsed;
  }
  if (o.failoverKills > 0) {
    if (o.clusterFile.empty()) {
      return Status::invalidArgument("--failover needs --cluster FILE (e.g. etc/cluster-3.ini)");
    }
    return parsed;
  }
  if (o.servers.empty()) {
    return Status::invalidArgument("--servers is required, e.g. --servers 127.0.0.1:7001");
  }
  if (o.roomMembers != 0 && o.protocol != BenchProtocol::kChat && o.rate <= 0) {
    return Status::invalidArgument(
        "--room against irc or redis needs --rate and --duration (they acknowledge nothing, "
        "so there is no window to keep)");
  }
  if ((o.rate > 0) != (o.duration > 0)) {
    return Status::invalidArgument("--rate and --duration go together");
  }
  if (o.protocol != BenchProtocol::kChat && (o.idleConnections > 0 || o.tls)) {
    return Status::invalidArgument("--idle and --tls-ca measure chat-node only; drop them with --protocol");
  }
  return parsed;
}

}  // namespace chat::bench
