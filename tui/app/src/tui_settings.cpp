#include "chat/tui/tui_settings.h"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Path.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <fstream>
#include <sstream>

#include "chat/cluster/cluster_config.h"

namespace chat::tui {

namespace {

Result<bool> flag(Poco::Util::AbstractConfiguration& c, const std::string& key, bool fallback,
                  const std::string& file) {
  if (!c.has(key)) {
    return fallback;
  }
  std::string v = c.getString(key);
  if (v == "on" || v == "true" || v == "yes" || v == "1") {
    return true;
  }
  if (v == "off" || v == "false" || v == "no" || v == "0") {
    return false;
  }
  return Status::invalidArgument(file + ": " + key + " = '" + v + "' should be on or off");
}

}  // namespace

Result<std::vector<std::string>> parseServers(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t a = item.find_first_not_of(" \t");
    size_t b = item.find_last_not_of(" \t");
    if (a == std::string::npos) {
      continue;
    }
    item = item.substr(a, b - a + 1);
    size_t colon = item.rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < item.size();
    if (ok) {
      std::string port = item.substr(colon + 1);
      ok = port.find_first_not_of("0123456789") == std::string::npos && port.size() <= 5 &&
           std::stoi(port) > 0 && std::stoi(port) < 65536;
    }
    if (!ok) {
      return Status::invalidArgument("'" + item + "' is not host:port (e.g. 127.0.0.1:7001)");
    }
    out.push_back(item);
  }
  if (out.empty()) {
    return Status::invalidArgument("no servers given; expected host:port,host:port...");
  }
  return out;
}

namespace {
// `file` as written in the settings at `base`: relative paths start from base's folder.
std::string besides(const std::string& base, const std::string& file) {
  Poco::Path p(file);
  if (p.isRelative()) {
    p = Poco::Path(Poco::Path(base).makeAbsolute().parent()).resolve(p);
  }
  return p.toString();
}
}  // namespace

Result<std::vector<std::string>> serversOfCluster(const std::string& clusterFile,
                                                  std::string* tlsCa) {
  auto config = cluster::loadClusterConfig(clusterFile);
  if (!config) {
    return config.error();
  }
  if (tlsCa != nullptr) {
    *tlsCa = config->tlsCa;  // like data_dir: relative to the working directory
  }
  std::vector<std::string> out;
  for (const auto& n : config->nodes) {
    out.push_back(n.clientAddress());
  }
  return out;
}

Result<TuiSettings> loadTuiSettings(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return Status::notFound(path + ": cannot read it; give --config FILE, or --cluster FILE");
  }
  std::stringstream text;
  text << file.rdbuf();
  Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini;
  try {
    std::istringstream in(text.str());
    ini = new Poco::Util::IniFileConfiguration(in);
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument(path + ": " + e.displayText());
  }
  TuiSettings s;
  std::string servers = ini->getString("tui.servers", "");
  std::string cluster = ini->getString("tui.cluster", "");
  if (!servers.empty()) {
    auto list = parseServers(servers);
    if (!list) {
      return Status::invalidArgument(path + ": [tui] servers: " + list.error().message());
    }
    s.servers = *list;
  } else if (!cluster.empty()) {
    auto list = serversOfCluster(besides(path, cluster), &s.tlsCa);
    if (!list) {
      return Status::invalidArgument(path + ": [tui] cluster: " + list.error().message());
    }
    s.servers = *list;
  }
  if (std::string ca = ini->getString("tui.tls_ca", ""); !ca.empty()) {
    s.tlsCa = besides(path, ca);
  }
  s.user = ini->getString("tui.user", "");
  for (auto [key, target] : {std::pair{"tui.bell", &s.bell}, std::pair{"tui.mouse", &s.mouse},
                             std::pair{"tui.auto_deliver", &s.autoDeliver},
                             std::pair{"tui.colours", &s.colours}}) {
    auto v = flag(*ini, key, *target, path);
    if (!v) {
      return v.error();
    }
    *target = *v;
  }
  return s;
}

}  // namespace chat::tui
