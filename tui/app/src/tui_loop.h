// runTui: chat-tui's one event loop. It waits on the keyboard, the cluster connection, the
// status poller, a signal pipe (window resize, termination) and a timer at once, so that a
// dropped connection shows on screen without a key press and the screen never waits on the
// network: the ClusterClient is driven without blocking (pump), the node statuses come
// from the poller's thread.
// Thread contract: call on the main thread; returns when the user quits or a signal ends it.
#ifndef CHAT_TUI_APP_TUI_LOOP_H_
#define CHAT_TUI_APP_TUI_LOOP_H_

#include "chat/tui/tui_settings.h"

namespace chat::tui {

// Returns the process exit code.
int runTui(const TuiSettings& settings);

}  // namespace chat::tui

#endif  // CHAT_TUI_APP_TUI_LOOP_H_
