// ChatNodeApp: chat-node's Poco ServerApplication. Reads options and the config file into
// NodeSettings, sets up logging, starts a Node (node.h: the assembly), writes the port file,
// then waits for SIGTERM/SIGINT and stops the node.
// Thread contract: Poco calls it on the main thread.
#ifndef CHAT_NODE_APP_CHAT_NODE_APP_H_
#define CHAT_NODE_APP_CHAT_NODE_APP_H_

#include <optional>
#include <ostream>

#include <Poco/Util/ServerApplication.h>

#include "chat/common/status.h"
#include "node.h"

namespace chat::node {

class ChatNodeApp final : public Poco::Util::ServerApplication {
 public:
  // Before run(): an unknown option, a stray word or an option without its value is refused
  // with a sentence and the usage on stderr; returns the exit code (2) then, else nullopt.
  std::optional<int> refuseBadCommandLine(int argc, char** argv);

 protected:
  void initialize(Poco::Util::Application& self) override;
  void defineOptions(Poco::Util::OptionSet& options) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void printHelp(const Poco::Util::OptionSet& options, std::ostream& out) const;
  void handleHelp(const std::string& name, const std::string& value);
  void handleVersion(const std::string& name, const std::string& value);
  void handleCheck(const std::string& name, const std::string& value);
  void handleConfig(const std::string& name, const std::string& value);
  void handleSet(const std::string& name, const std::string& value);
  // kInvalidArgument names the bad log_* setting. `checkOnly`: parse every setting and check
  // the log file can be written, but open nothing and keep logging on the console.
  Status setupLogging(bool checkOnly);
  // Fills `settings` from the options and files; an exit code other than EXIT_OK after
  // saying what is wrong. Its steps, in order:
  int readSettings(NodeSettings& settings);
  // Every whole-number setting given is a number in its range (kWholeNumbers).
  Status checkWholeNumbers();
  // A checked whole-number setting under node., or `fallback` when it is not given.
  int64_t wholeNumber(const char* key, int64_t fallback);
  // --cluster: the file, its secret and this node's entry (host, port, data folder).
  Status readClusterFile(NodeSettings& settings);
  // The data folder exists (made if need be; with --check, could be made).
  Status prepareDataDir(NodeSettings& settings);
  // The rest: password cost, sync, ports, limits, timeouts, TLS, the admin port.
  Status readServiceSettings(NodeSettings& settings);
  bool checkOnly_ = false;  // --check
  bool answered_ = false;  // --help or --version printed: run nothing
};

}  // namespace chat::node

#endif  // CHAT_NODE_APP_CHAT_NODE_APP_H_
