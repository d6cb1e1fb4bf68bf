// chat-tui: the full-screen terminal client of the chat suite.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "chat/common/command_line.h"
#include "chat/common/process_info.h"
#include "chat/protocol/suite_version.h"
#include "chat/tui/tui_settings.h"
#include "tui_loop.h"

namespace {

constexpr const char* kUsage =
    "usage: chat-tui [--config FILE] [--cluster FILE | --servers HOST:PORT,...] [--user NAME]\n"
    "                [--tls-ca FILE] [--mouse] [--no-colour] [--no-bell]\n"
    "\n"
    "The full-screen client of the chat cluster. It talks to whichever node leads and\n"
    "follows the cluster through failover without losing a message.\n"
    "\n"
    "  --config FILE      settings (default: $CHAT_TUI_CONFIG, else etc/tui.ini if present)\n"
    "  --cluster FILE     the nodes, from a cluster file (etc/cluster.ini)\n"
    "  --servers LIST     the nodes as host:port,host:port (in succession order)\n"
    "  --user NAME        fill in the login form with NAME\n"
    "  --tls-ca FILE      the nodes speak TLS: check their certificates against this CA\n"
    "                     (default: the cluster file's tls_ca)\n"
    "  --mouse            start with mouse mode on (Alt+M toggles it)\n"
    "  --no-colour        monochrome\n"
    "  --no-bell          no bell for messages in other conversations\n"
    "  --version          the suite's version and the protocol versions it speaks\n"
    "  --help             this text\n"
    "Every option may also be written --name=VALUE.\n"
    "\n"
    "Inside: F1 shows every key and command.\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "chat-tui: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  chat::keepNewFilesPrivate();  // umask 077: what we write holds messages and secrets
  std::string config;
  std::string cluster;
  std::string servers;
  std::string user;
  std::string tlsCa;
  bool mouse = false;
  bool noColour = false;
  bool noBell = false;
  chat::CommandLine line("chat-tui");
  line.text("--config", config)
      .text("--cluster", cluster)
      .text("--servers", servers)
      .text("--user", user)
      .text("--tls-ca", tlsCa)
      .flag("--mouse", mouse)
      .flag("--no-colour", noColour, "--no-color")
      .flag("--no-bell", noBell);
  if (auto exit = chat::finishCommandLine("chat-tui", line.parse(argc, argv), kUsage,
                                          chat::protocol::versionText("chat-tui"))) {
    return *exit;
  }
  if (!cluster.empty() && !servers.empty()) {
    return fail("give --cluster or --servers, not both");
  }
  chat::tui::TuiSettings settings;
  if (config.empty()) {
    if (const char* env = std::getenv("CHAT_TUI_CONFIG"); env != nullptr && *env != '\0') {
      config = env;
    } else if (::access("etc/tui.ini", R_OK) == 0) {
      config = "etc/tui.ini";
    }
  }
  if (!config.empty()) {
    auto loaded = chat::tui::loadTuiSettings(config);
    if (!loaded) {
      return fail(loaded.error().message());
    }
    settings = *loaded;
  }
  if (!cluster.empty()) {
    auto list = chat::tui::serversOfCluster(cluster, &settings.tlsCa);
    if (!list) {
      return fail(list.error().message());
    }
    settings.servers = *list;
  } else if (!servers.empty()) {
    auto list = chat::tui::parseServers(servers);
    if (!list) {
      return fail("--servers: " + list.error().message());
    }
    settings.servers = *list;
  }
  if (settings.servers.empty()) {
    return fail("no servers: give --cluster FILE or --servers HOST:PORT,... (or a tui.ini "
                "with servers or cluster); see --help");
  }
  if (!user.empty()) {
    settings.user = user;
  }
  if (!tlsCa.empty()) {
    settings.tlsCa = tlsCa;
  }
  settings.mouse = settings.mouse || mouse;
  settings.colours = settings.colours && !noColour;
  settings.bell = settings.bell && !noBell;
  if (::isatty(0) == 0 || ::isatty(1) == 0) {
    return fail("needs a terminal (run it in a terminal window, or under tmux)");
  }
  return chat::tui::runTui(settings);
}
