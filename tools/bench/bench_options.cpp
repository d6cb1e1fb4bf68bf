#include "bench_options.h"

#include <charconv>
#include <cstring>
#include <sstream>

namespace chat::bench {

const char* benchUsage() {
  return "usage: chat-bench --servers HOST:PORT[,...] [options]\n"
         "  --pairs N        senders and as many recipients (default 50)\n"
         "  --messages M     messages per sender in throughput mode (default 1000)\n"
         "  --size B         body bytes (default 100)\n"
         "  --window W       sends in flight per sender (default 1)\n"
         "  --rate R         fixed total rate in messages/s (latency run), with --duration\n"
         "  --duration S     seconds to hold --rate\n"
         "  --threads T      client threads (default 2)\n"
         "  --room N         one room of N members (all online) instead of pairs: the first\n"
         "                   --senders S of them (default 10) send to it; prints the fan-out\n"
         "                   (deliveries/s) and the latency to each member and to the last\n"
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
         "The node should run with --password-hash min: the bench creates many accounts.\n";
}

namespace {
template <typename T>
Status parseNumber(const char* name, const char* text, T& out) {
  std::string_view s(text);
  if constexpr (std::is_floating_point_v<T>) {
    try {
      size_t used = 0;
      out = static_cast<T>(std::stod(std::string(s), &used));
      if (used == s.size() && out >= 0) {
        return Status::ok();
      }
    } catch (const std::exception&) {
      // falls through to the error below
    }
  } else {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size() && out >= 0) {
      return Status::ok();
    }
  }
  return Status::invalidArgument(std::string(name) + " needs a non-negative number, not '" +
                                 std::string(s) + "'");
}
}  // namespace

Result<BenchOptions> parseBenchOptions(int argc, char** argv, bool& help) {
  BenchOptions o;
  help = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      return o;
    }
    if (arg == "--json") {
      o.json = true;
      continue;
    }
    if (arg == "--campaign") {
      o.campaign = true;
      continue;
    }
    if (i + 1 >= argc) {
      return Status::invalidArgument(arg + " needs a value (or is unknown); see --help");
    }
    const char* v = argv[++i];
    if (arg == "--servers") {
      std::stringstream ss(v);
      std::string item;
      while (std::getline(ss, item, ',')) {
        if (!item.empty()) {
          o.servers.push_back(item);
        }
      }
    } else if (arg == "--pairs") {
      CHAT_RETURN_IF_ERROR(parseNumber("--pairs", v, o.pairs));
    } else if (arg == "--messages") {
      CHAT_RETURN_IF_ERROR(parseNumber("--messages", v, o.messages));
    } else if (arg == "--size") {
      CHAT_RETURN_IF_ERROR(parseNumber("--size", v, o.size));
    } else if (arg == "--window") {
      CHAT_RETURN_IF_ERROR(parseNumber("--window", v, o.window));
    } else if (arg == "--rate") {
      CHAT_RETURN_IF_ERROR(parseNumber("--rate", v, o.rate));
    } else if (arg == "--duration") {
      CHAT_RETURN_IF_ERROR(parseNumber("--duration", v, o.duration));
    } else if (arg == "--room") {
      CHAT_RETURN_IF_ERROR(parseNumber("--room", v, o.roomMembers));
    } else if (arg == "--senders") {
      CHAT_RETURN_IF_ERROR(parseNumber("--senders", v, o.roomSenders));
    } else if (arg == "--threads") {
      CHAT_RETURN_IF_ERROR(parseNumber("--threads", v, o.threads));
    } else if (arg == "--idle") {
      CHAT_RETURN_IF_ERROR(parseNumber("--idle", v, o.idleConnections));
    } else if (arg == "--hold") {
      CHAT_RETURN_IF_ERROR(parseNumber("--hold", v, o.holdSeconds));
    } else if (arg == "--failover") {
      CHAT_RETURN_IF_ERROR(parseNumber("--failover", v, o.failoverKills));
    } else if (arg == "--cluster") {
      o.clusterFile = v;
    } else if (arg == "--node-binary") {
      o.nodeBinary = v;
    } else if (arg == "--run-dir") {
      o.runDir = v;
    } else if (arg == "--supervisor") {
      o.supervisorRunDir = v;
    } else if (arg == "--node-log-level") {
      o.nodeLogLevel = v;
    } else if (arg == "--await") {
      CHAT_RETURN_IF_ERROR(parseNumber("--await", v, o.awaitSeconds));
    } else if (arg == "--protocol") {
      std::string p = v;
      if (p == "chat") {
        o.protocol = BenchProtocol::kChat;
      } else if (p == "irc") {
        o.protocol = BenchProtocol::kIrc;
      } else if (p == "redis") {
        o.protocol = BenchProtocol::kRedis;
      } else {
        return Status::invalidArgument("--protocol must be chat, irc or redis, not '" + p + "'");
      }
    } else if (arg == "--irc-oper") {
      o.ircOper = v;
      if (o.ircOper.find(':') == std::string::npos) {
        return Status::invalidArgument("--irc-oper takes NAME:PASSWORD");
      }
    } else if (arg == "--tls-ca") {
      o.tlsCa = v;
      auto tls = tls::TlsContext::client({o.tlsCa});
      if (!tls) {
        return Status::invalidArgument("--tls-ca: " + tls.error().message());
      }
      o.tls = std::move(tls).value();
    } else {
      return Status::invalidArgument("unknown option " + arg + "; see --help");
    }
  }
  if (o.failoverKills > 0) {
    if (o.clusterFile.empty()) {
      return Status::invalidArgument("--failover needs --cluster FILE (e.g. etc/cluster-3.ini)");
    }
    return o;
  }
  if (o.servers.empty()) {
    return Status::invalidArgument("--servers is required, e.g. --servers 127.0.0.1:7001");
  }
  if (o.pairs < 1 || o.window < 1 || o.threads < 1) {
    return Status::invalidArgument("--pairs, --window and --threads must be at least 1");
  }
  if (o.size < 24 || o.size > 4000) {
    return Status::invalidArgument("--size must be between 24 and 4000 bytes");
  }
  if (o.roomMembers != 0 && (o.roomMembers < 2 || o.roomMembers > 1000 || o.roomSenders < 1)) {
    return Status::invalidArgument(
        "--room takes 2 to 1000 members (a room's limit) and --senders at least 1");
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
  return o;
}

}  // namespace chat::bench
