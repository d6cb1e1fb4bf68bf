// TuiSettings: what chat-tui reads from etc/tui.ini, overridden by its flags.
//
//   [tui]
//   cluster = cluster.ini      ; the nodes, from a cluster file (relative to this file)
//   servers = 127.0.0.1:7001,127.0.0.1:7002   ; or listed here (wins over cluster)
//   user = alice               ; filled in on the login form
//   bell = on                  ; ring for a message outside the conversation shown
//   mouse = off                ; wheel and click (breaks the terminal's text selection)
//   auto_deliver = on          ; fetch waiting messages at login
//   colours = on
//   tls_ca = ca.pem            ; the nodes speak TLS; check them against this CA (relative
//                              ; to this file; a cluster file's tls_ca serves too)
//
// Thread contract: plain values; loading is a pure function of the files.
#ifndef CHAT_TUI_TUI_SETTINGS_H_
#define CHAT_TUI_TUI_SETTINGS_H_

#include <string>
#include <vector>

#include "chat/common/status.h"

namespace chat::tui {

struct TuiSettings {
  std::vector<std::string> servers;  // host:port, in succession order
  std::string user;
  bool bell = true;
  bool mouse = false;
  bool autoDeliver = true;
  bool colours = true;
  std::string tlsCa;  // PEM; empty: connect in the clear
};

// Reads a tui.ini. A "cluster" key is read relative to the file's folder. Errors
// (kInvalidArgument, kNotFound) name the file and the key, and say what is expected.
Result<TuiSettings> loadTuiSettings(const std::string& path);
// "host:port,host:port" -> the list; kInvalidArgument naming the bad entry.
Result<std::vector<std::string>> parseServers(const std::string& text);
// The client addresses of every node of a cluster file, in succession order, and the file's
// tls_ca (as written: like data_dir, relative to the working directory; empty when none).
Result<std::vector<std::string>> serversOfCluster(const std::string& clusterFile,
                                                  std::string* tlsCa = nullptr);

}  // namespace chat::tui

#endif  // CHAT_TUI_TUI_SETTINGS_H_
