// ChatNodeApp: chat-node's Poco ServerApplication. Reads options and the config file, sets up
// logging, opens the SQLite store, and wires the commit log, chat service and client
// listener; then waits for SIGTERM/SIGINT and shuts down in reverse order.
// Thread contract: Poco calls it on the main thread.
#ifndef CHAT_NODE_APP_CHAT_NODE_APP_H_
#define CHAT_NODE_APP_CHAT_NODE_APP_H_

#include <Poco/Util/ServerApplication.h>

#include "chat/common/status.h"

namespace chat::node {

class ChatNodeApp final : public Poco::Util::ServerApplication {
 protected:
  void initialize(Poco::Util::Application& self) override;
  void defineOptions(Poco::Util::OptionSet& options) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void handleHelp(const std::string& name, const std::string& value);
  void handleConfig(const std::string& name, const std::string& value);
  void handleSet(const std::string& key, const std::string& value);
  Status setupLogging();  // kInvalidArgument names the bad log_* setting
  bool helpRequested_ = false;
};

}  // namespace chat::node

#endif  // CHAT_NODE_APP_CHAT_NODE_APP_H_
