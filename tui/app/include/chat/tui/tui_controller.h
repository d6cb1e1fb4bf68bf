// TuiController: chat-tui's behaviour, with no curses and no sockets: keys become edits,
// commands and requests; replies, pushes and connection events become changes to the chat
// model and the screen state. The event loop feeds it and draws what it holds. Requests
// leave through the `submit` function (the ClusterClient's submit in the program); what the
// loop itself must do (quit, reconnect, ring the bell, switch mouse reporting, redraw from
// scratch) is collected as Effects.
// Thread contract: not thread-safe; the UI thread owns it. Times are wall-clock millis
// passed in by the caller, so tests control them.
#ifndef CHAT_TUI_TUI_CONTROLLER_H_
#define CHAT_TUI_TUI_CONTROLLER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "chat/client/cluster_client.h"
#include "chat/tui/chat_model.h"
#include "chat/tui/commands.h"
#include "chat/tui/key_input.h"
#include "chat/tui/key_map.h"
#include "chat/tui/screen_state.h"
#include "chat/tui/tui_settings.h"

namespace chat::tui {

struct Effects {
  bool quit = false;
  bool reconnect = false;
  bool bell = false;
  bool mouseChanged = false;
  bool redraw = false;
};

class TuiController {
 public:
  // Sends a request, under `reuseId` when that is not 0 (a failed send retried: the cluster
  // stores it once), and returns its id.
  using Submit = std::function<uint64_t(protocol::Request, uint64_t reuseId)>;
  TuiController(TuiSettings settings, Submit submit);

  void setScreenSize(int width, int height);
  void onKey(const Key& key, int64_t nowMillis);
  void onEvent(const client::ClientEvent& event, int64_t nowMillis);
  // The nodes' statuses from the status poller (every node, answering or not).
  void onNodes(std::vector<NodeRow> nodes);
  // Timed work: status and ping requests, the end of a failover banner, the countdown.
  // `reconnectIn`: how long until the client's next connect attempt while it has none;
  // `connectError`: why the last attempt failed, shown while no node has answered yet.
  void tick(int64_t nowMillis, int64_t reconnectInMillis, bool connected,
            const std::string& connectError = "");
  Effects takeEffects();

  const ChatModel& model() const { return model_; }
  const ScreenState& state() const { return state_; }
  const KeyMap& keys() const { return keys_; }

 private:
  enum class Purpose {
    kCreate, kLogin, kList, kWhois, kDeliver, kSend, kHistory, kLogout, kDelete, kStatus,
    kPing, kAck, kTyping, kConversations, kRooms, kMembers, kReceipts, kJoin, kLeave, kInvite,
    kCreateRoom, kMarkRead,
  };
  struct PendingRequest {
    Purpose purpose = Purpose::kPing;
    uint64_t localId = 0;  // kSend
    std::string name;      // kHistory: the peer; kWhois: the user; kList: the pattern
    int64_t sentAtMillis = 0;
    bool quiet = false;  // kList: refresh the users without a notice; kDeliver: after a resume
  };

  uint64_t request(protocol::Request r, PendingRequest p, uint64_t reuseId = 0);
  void onLoginKey(const Key& key, const std::string& action, int64_t now);
  void onChatKey(const Key& key, const std::string& action, int64_t now);
  void onPromptKey(const Key& key, const std::string& action, int64_t now);
  bool edit(LineEditor& e, const Key& key, const std::string& action);
  void submitLine(int64_t now);
  void runCommand(const std::string& line, int64_t now);
  void send(const std::string& peer, const std::string& text, int64_t now);
  void retryLast(int64_t now);
  // Typing in a conversation: tells the peer, at most every few seconds (not for commands).
  void typed(int64_t now);
  void openConversation(const std::string& peer);
  void selected();  // after the active conversation changed
  void fetchHistory(const std::string& peer, uint64_t beforeId);
  void scroll(int lines);
  void scrollToMessage(uint64_t id);
  int paneLines() const;
  void updateSearch();
  void complete(bool backwards);
  void backToLogin(std::string message, bool isError);
  void onResponse(const protocol::Response& r, int64_t now);
  // One handler per purpose of the request answered (tui_controller_events.cpp).
  void formError(const std::string& error);
  void onCreateReply(const PendingRequest& p, const protocol::Response& r, int64_t now);
  void onLoginReply(const protocol::Response& r, int64_t now);
  void onUserListReply(const PendingRequest& p, const protocol::Response& r, int64_t now);
  void onDeliverReply(const PendingRequest& p, const protocol::Response& r, int64_t now);
  void onSendReply(const PendingRequest& p, const protocol::Response& r, int64_t now);
  void onHistoryReply(const PendingRequest& p, const protocol::Response& r, int64_t now);
  void onDeleteReply(const protocol::Response& r, int64_t now);
  void onStatusReply(const PendingRequest& p, const protocol::Response& r, int64_t now);
  void onPush(const protocol::Push& p, int64_t now);
  void onConnection(const client::ConnectionEvent& e, int64_t now);
  void onLoggedIn(const protocol::LoginReply& reply, int64_t now);
  void onMouse(const MouseEvent& m);
  // Rooms (tui_controller_rooms.cpp).
  // True if `cmd` is a room command (and it ran).
  bool runRoomCommand(const ParsedCommand& cmd, int64_t now);
  void onRoomResponse(const PendingRequest& p, const protocol::Response& r, int64_t now);
  void onRoomPush(const protocol::RoomPush& push, int64_t now);
  // Who is in `room` changed: asks for its members again if they are shown.
  void refreshMembers(const std::string& room, int64_t now);
  // The room a command names, or the one shown; empty (and a notice) when neither.
  std::string roomArgument(const std::string& arg, const char* command, int64_t now);
  // Sends the read markers that moved (at most one a second per conversation).
  void flushReadMarkers(int64_t now);

  TuiSettings settings_;
  Submit submit_;
  KeyMap keys_ = KeyMap::defaults();
  ChatModel model_;
  ScreenState state_;
  Effects effects_;
  int width_ = 80;
  int height_ = 24;
  std::map<uint64_t, PendingRequest> pending_;
  // The request id each message we sent went out under (by local id): Alt+R re-sends a
  // failed one under it, so a send that was stored after all is not stored twice.
  std::map<uint64_t, uint64_t> sendRequestIds_;
  // When we last told each peer we were typing (ms): at most one notice every 3 s; the peer
  // shows it for 5 s (kTypingShownMillis), so steady typing shows without a gap.
  static constexpr int64_t kTypingEveryMillis = 3000;
  static constexpr int64_t kTypingShownMillis = 5000;
  std::map<std::string, int64_t> typingSentAt_;
  std::set<std::string> historyFetched_;  // lower-cased peers
  // Read markers: the newest id sent to the server per conversation (lower-cased peer), and
  // when; the marker moves when the user has seen a conversation's newest message.
  static constexpr int64_t kReadMarkerEveryMillis = 1000;
  std::map<std::string, uint64_t> readMarkerSent_;
  int64_t readMarkersFlushedAt_ = 0;
  std::string loginUser_;                 // the user the form asked for
  std::string loginPassword_;             // held only between create and login
  bool loggedIn_ = false;
  int64_t nextStatusAt_ = 0;
  int64_t nextUserRefreshAt_ = 0;
  std::string shownConnectError_;    // the connect failure the login form shows
  int64_t failedOverAt_ = 0;
  // Tab completion in progress: the word replaced and the candidates cycled through.
  struct Completion {
    bool active = false;
    std::string before;  // the line up to the word
    std::string after;   // the line after the cursor
    std::vector<std::string> candidates;
    size_t index = 0;
  } completion_;
};

}  // namespace chat::tui

#endif  // CHAT_TUI_TUI_CONTROLLER_H_
