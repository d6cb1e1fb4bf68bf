#include "chat/cluster/cluster_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <Poco/Util/IniFileConfiguration.h>

namespace chat::cluster {

const NodeConfig* ClusterConfig::node(uint32_t id) const {
  for (const auto& n : nodes) {
    if (n.id == id) {
      return &n;
    }
  }
  return nullptr;
}

namespace {

// Section names in file order: Poco's configuration keeps keys sorted, and the order of the
// node sections is the succession order.
std::vector<std::string> sectionsInOrder(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] != '[') {
      continue;
    }
    size_t end = line.find(']', start);
    if (end != std::string::npos) {
      out.push_back(line.substr(start + 1, end - start - 1));
    }
  }
  return out;
}

Result<int64_t> number(Poco::Util::AbstractConfiguration& c, const std::string& key,
                       int64_t fallback, int64_t lo, int64_t hi, const std::string& where) {
  if (!c.has(key)) {
    if (fallback < 0) {
      return Status::invalidArgument(where + ": " + key + " is missing");
    }
    return fallback;
  }
  std::string text = c.getString(key);
  Poco::Int64 v = 0;
  if (!Poco::NumberParser::tryParse64(text, v) || v < lo || v > hi) {
    return Status::invalidArgument(where + ": " + key + " = '" + text + "' is not a number from " +
                                   std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<int64_t>(v);
}

}  // namespace

Result<ClusterConfig> parseClusterConfig(const std::string& text, const std::string& name) {
  Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini;
  try {
    std::istringstream in(text);
    ini = new Poco::Util::IniFileConfiguration(in);
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument(name + ": " + e.displayText());
  }
  ClusterConfig config;
  config.source = name;
  config.secret = ini->getString("cluster.secret", "");
  config.secretFile = ini->getString("cluster.secret_file", "");
  config.tlsCa = ini->getString("cluster.tls_ca", "");
  if (!config.secret.empty() && !config.secretFile.empty()) {
    return Status::invalidArgument(name +
                                   ": [cluster] has both secret and secret_file; keep one "
                                   "(secret_file, a file only the nodes' user can read)");
  }
  auto heartbeat = number(*ini, "cluster.heartbeat_ms", 50, 1, 60000, name);
  auto timeout = number(*ini, "cluster.election_timeout_ms", 300, 10, 600000, name);
  auto step = number(*ini, "cluster.election_step_ms", 50, 0, 600000, name);
  auto maxLog = number(*ini, "cluster.max_log_entries", 100000, 10, 1000000000, name);
  auto compact = number(*ini, "cluster.compact_entries", 10000, 1, 1000000000, name);
  for (const auto* r : {&heartbeat, &timeout, &step, &maxLog, &compact}) {
    if (!*r) {
      return r->error();
    }
  }
  config.heartbeat = std::chrono::milliseconds(*heartbeat);
  config.electionTimeout = std::chrono::milliseconds(*timeout);
  config.electionStep = std::chrono::milliseconds(*step);
  config.maxLogEntries = static_cast<uint64_t>(*maxLog);
  config.supervisor.restart = ini->getString("supervisor.restart", "on-failure");
  if (config.supervisor.restart != "on-failure" && config.supervisor.restart != "never") {
    return Status::invalidArgument(name + " [supervisor]: restart = '" +
                                   config.supervisor.restart +
                                   "' is not on-failure or never");
  }
  auto maxRestarts = number(*ini, "supervisor.max_restarts", 5, 0, 1000000, name);
  auto restartPeriod = number(*ini, "supervisor.restart_period_s", 60, 1, 86400 * 365, name);
  for (const auto* r : {&maxRestarts, &restartPeriod}) {
    if (!*r) {
      return r->error();
    }
  }
  config.supervisor.maxRestarts = static_cast<int>(*maxRestarts);
  config.supervisor.restartPeriod = std::chrono::seconds(*restartPeriod);
  config.compactEntries = static_cast<uint64_t>(*compact);
  if (config.heartbeat * 2 > config.electionTimeout) {
    return Status::invalidArgument(name +
                                   ": election_timeout_ms must be at least twice "
                                   "heartbeat_ms, or followers time out between beats");
  }
  std::set<uint32_t> ids;
  std::set<std::string> endpoints;
  std::set<std::string> dirs;
  for (const auto& section : sectionsInOrder(text)) {
    if (section.rfind("node.", 0) != 0) {
      if (section != "cluster" && section != "supervisor") {
        return Status::invalidArgument(name + ": unknown section [" + section +
                                       "]; expected [cluster], [supervisor] and [node.N]");
      }
      continue;
    }
    std::string where = name + " [" + section + "]";
    unsigned id = 0;
    if (!Poco::NumberParser::tryParseUnsigned(section.substr(5), id) || id == 0 || id > 1000000) {
      return Status::invalidArgument(where +
                                     ": the node id after 'node.' must be a positive "
                                     "number");
    }
    if (!ids.insert(id).second) {
      return Status::invalidArgument(where + ": node " + std::to_string(id) + " appears twice");
    }
    NodeConfig node;
    node.id = id;
    node.host = ini->getString(section + ".host", "");
    if (node.host.empty()) {
      return Status::invalidArgument(where + ": host is missing");
    }
    auto client = number(*ini, section + ".client_port", -1, 1, 65535, where);
    auto peer = number(*ini, section + ".peer_port", -1, 1, 65535, where);
    if (!client) {
      return client.error();
    }
    if (!peer) {
      return peer.error();
    }
    node.clientPort = static_cast<uint16_t>(*client);
    node.peerPort = static_cast<uint16_t>(*peer);
    auto admin = number(*ini, section + ".admin_port", 0, 0, 65535, where);
    if (!admin) {
      return admin.error();
    }
    node.adminPort = static_cast<uint16_t>(*admin);
    node.dataDir = ini->getString(section + ".data_dir", "");
    node.restart = ini->getString(section + ".restart", "");
    if (!node.restart.empty() && node.restart != "on-failure" && node.restart != "never") {
      return Status::invalidArgument(where + ": restart = '" + node.restart +
                                     "' is not on-failure or never");
    }
    node.tlsCert = ini->getString(section + ".tls_cert", "");
    node.tlsKey = ini->getString(section + ".tls_key", "");
    if (node.tlsCert.empty() != node.tlsKey.empty()) {
      return Status::invalidArgument(where + ": tls_cert and tls_key go together; give both");
    }
    node.supervise = ini->getString(section + ".supervise", "spawn");
    if (node.supervise != "spawn" && node.supervise != "watch") {
      return Status::invalidArgument(where + ": supervise = '" + node.supervise +
                                     "' is not spawn or watch");
    }
    if (node.dataDir.empty()) {
      return Status::invalidArgument(where + ": data_dir is missing");
    }
    std::vector<std::string> used{node.clientAddress(), node.peerAddress()};
    if (node.adminPort != 0) {
      used.push_back(node.host + ":" + std::to_string(node.adminPort));
    }
    for (const auto& endpoint : used) {
      if (!endpoints.insert(endpoint).second) {
        return Status::invalidArgument(where + ": " + endpoint + " is used twice in the cluster");
      }
    }
    if (!dirs.insert(node.dataDir).second) {
      return Status::invalidArgument(where + ": data_dir " + node.dataDir +
                                     " is shared with another node; each needs its own");
    }
    config.nodes.push_back(std::move(node));
  }
  if (config.nodes.empty()) {
    return Status::invalidArgument(name + ": no [node.N] sections; a cluster needs at least one");
  }
  // TLS is the whole cluster's or nobody's: the nodes check each other with the CA.
  for (const auto& node : config.nodes) {
    if (!config.tlsCa.empty() && node.tlsCert.empty()) {
      return Status::invalidArgument(name + " [node." + std::to_string(node.id) +
                                     "]: [cluster] tls_ca is set, so every node needs "
                                     "tls_cert and tls_key");
    }
    if (config.tlsCa.empty() && !node.tlsCert.empty()) {
      return Status::invalidArgument(name + " [node." + std::to_string(node.id) +
                                     "]: tls_cert needs [cluster] tls_ca, the CA that signed "
                                     "it, so that the other nodes and the clients can check it");
    }
  }
  return config;
}

Result<ClusterConfig> loadClusterConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::notFound("cannot read the cluster file " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  return parseClusterConfig(text.str(), path);
}

}  // namespace chat::cluster
