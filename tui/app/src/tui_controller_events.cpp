// TuiController, the cluster's side: replies, pushes, connection events, node statuses and
// the timed requests (status, user refresh). The keys' side is in tui_controller.cpp.
#include <algorithm>

#include "chat/tui/tui_controller.h"
#include "chat/tui/user_list_view.h"
#include "controller_helpers.h"

namespace chat::tui {

namespace {

constexpr int64_t kStatusEveryMillis = 2000;
constexpr int64_t kFailoverBannerMillis = 5000;
// The server pushes presence only for users a session knows of; a periodic list also
// brings in accounts created since.
constexpr int64_t kUserRefreshMillis = 30000;

}  // namespace

// ---- what the cluster says ----

void TuiController::onEvent(const client::ClientEvent& event, int64_t now) {
  if (const auto* r = std::get_if<protocol::Response>(&event)) {
    onResponse(*r, now);
  } else if (const auto* p = std::get_if<protocol::Push>(&event)) {
    onPush(*p, now);
  } else if (const auto* c = std::get_if<client::ConnectionEvent>(&event)) {
    onConnection(*c, now);
  }
}

void TuiController::onLoggedIn(const protocol::LoginReply& reply, int64_t now) {
  loggedIn_ = true;
  loginPassword_.clear();
  model_ = ChatModel{};
  model_.setSelf(loginUser_);
  historyFetched_.clear();
  state_.screen = Screen::kChat;
  state_.form.busy = false;
  state_.form.password.setText("");
  state_.form.message.clear();
  state_.notify("logged in as " + loginUser_ +
                    (reply.waiting > 0
                         ? "; " + countOf(reply.waiting, "message", "messages") +
                               " waited for you"
                         : ""),
                now);
  request(protocol::ListRequest{"", 0, 200}, PendingRequest{Purpose::kList, 0, "", now, true});
  // The conversations of earlier sessions, with what is unread in each, and the rooms.
  request(protocol::ConversationsRequest{0, 100},
          PendingRequest{Purpose::kConversations, 0, "", now, true});
  request(protocol::ListRoomsRequest{"", 0, 100}, PendingRequest{Purpose::kRooms, 0, "", now, true});
  readMarkerSent_.clear();
  nextUserRefreshAt_ = now + kUserRefreshMillis;
  if (reply.waiting > 0) {
    if (settings_.autoDeliver) {
      request(protocol::DeliverRequest{0, "", ""}, PendingRequest{Purpose::kDeliver, 0, "", now});
    } else {
      state_.notify(countOf(reply.waiting, "message waits", "messages wait") + " for you: /deliver",
                    now);
    }
  }
}

void TuiController::onResponse(const protocol::Response& r, int64_t now) {
  auto it = pending_.find(r.requestId);
  if (it == pending_.end()) {
    return;  // a request of an earlier session
  }
  PendingRequest p = std::move(it->second);
  pending_.erase(it);
  switch (p.purpose) {
    case Purpose::kCreate:
      return onCreateReply(p, r, now);
    case Purpose::kLogin:
      return onLoginReply(r, now);
    case Purpose::kList:
    case Purpose::kWhois:
      return onUserListReply(p, r, now);
    case Purpose::kDeliver:
      return onDeliverReply(p, r, now);
    case Purpose::kSend:
      return onSendReply(p, r, now);
    case Purpose::kHistory:
      return onHistoryReply(p, r, now);
    case Purpose::kLogout:
      if (state_.screen == Screen::kChat) {
        backToLogin(r.isOk() ? "logged out" : r.error, !r.isOk());
      }
      return;
    case Purpose::kDelete:
      return onDeleteReply(r, now);
    case Purpose::kStatus:
      return onStatusReply(p, r, now);
    case Purpose::kPing:
    case Purpose::kAck:
    case Purpose::kTyping:  // a courtesy: nothing to show if it did not reach them
      return;
    case Purpose::kConversations:
    case Purpose::kRooms:
    case Purpose::kMembers:
    case Purpose::kReceipts:
    case Purpose::kJoin:
    case Purpose::kLeave:
    case Purpose::kInvite:
    case Purpose::kCreateRoom:
    case Purpose::kMarkRead:
      return onRoomResponse(p, r, now);
  }
}

// The login form says why, and the password typed for the new account is forgotten.
void TuiController::formError(const std::string& error) {
  LoginForm& f = state_.form;
  f.busy = false;
  f.message = error;
  f.messageIsError = true;
}

void TuiController::onCreateReply(const PendingRequest& p, const protocol::Response& r,
                                  int64_t now) {
  if (!r.isOk()) {
    formError(r.error);
    loginPassword_.clear();
    return;
  }
  state_.form.message = "account " + p.name + " created; logging in...";
  request(protocol::LoginRequest{p.name, loginPassword_},
          PendingRequest{Purpose::kLogin, 0, p.name, now});
}

void TuiController::onLoginReply(const protocol::Response& r, int64_t now) {
  if (!r.isOk()) {
    formError(r.error);
    return;
  }
  if (const auto* reply = bodyAs<protocol::LoginReply>(r)) {
    onLoggedIn(*reply, now);
  }
}

// /list and the periodic refresh (kList) update the user list; /whois (kWhois) asks about one.
void TuiController::onUserListReply(const PendingRequest& p, const protocol::Response& r,
                                    int64_t now) {
  if (!r.isOk()) {
    state_.notify(r.error, now, true);
    return;
  }
  const auto* list = bodyAs<protocol::ListReply>(r);
  if (list == nullptr) {
    return;
  }
  model_.users(list->users);
  if (p.purpose == Purpose::kWhois) {
    auto found = std::find_if(list->users.begin(), list->users.end(), [&](const auto& u) {
      return protocol::sameUsername(u.name, p.name);
    });
    if (found == list->users.end()) {
      state_.notify("there is no user " + p.name + " (/list shows who is there)", now, true);
    } else if (const User* u = model_.user(found->name)) {
      state_.notify(u->name + ": " + lastSeenText(*u, now), now);
    }
    return;
  }
  if (p.quiet) {
    return;
  }
  std::string names;
  for (const auto& u : list->users) {
    if (!names.empty()) {
      names += ", ";
    }
    names += u.name + (u.online ? " ●" : "");
  }
  std::string what = std::string(list->total == 1 ? "user" : "users") +
                     (p.name.empty() ? "" : " matching " + p.name);
  state_.notify(std::to_string(list->total) + " " + what + ": " +
                    (names.empty() ? "none" : names) +
                    (list->total > list->users.size() ? ", ..." : ""),
                now);
}

void TuiController::onDeliverReply(const PendingRequest& p, const protocol::Response& r,
                                   int64_t now) {
  if (!r.isOk()) {
    state_.notify(r.error, now, true);
    return;
  }
  const auto* d = bodyAs<protocol::DeliverReply>(r);
  if (d == nullptr) {
    return;
  }
  std::vector<uint64_t> ids;
  // At login these waited while the user was away; after a resume (quiet) they are the ones
  // stored while this client was reconnecting: no away rule for those.
  bool newsShown = false;
  for (const auto& m : d->messages) {
    model_.received(m, !p.quiet);
    ids.push_back(m.id);
    const Conversation* shown = model_.active();
    newsShown = newsShown || (shown != nullptr &&
                              (protocol::sameUsername(shown->peer, m.sender) ||
                               protocol::sameUsername(shown->peer, m.recipient)));
  }
  if (!ids.empty()) {
    request(protocol::AckRequest{ids}, PendingRequest{Purpose::kAck, 0, "", now});
    if (!newsShown) {
      // Show the first conversation that has news (the one shown has none of these).
      model_.selectNextUnread();
    }
    selected();
  }
  if (p.quiet && d->messages.empty() && d->remaining == 0) {
    return;
  }
  state_.notify((p.quiet ? countOf(d->messages.size(), "message", "messages") +
                                " that arrived during the reconnect"
                          : countOf(d->messages.size(), "waiting message", "waiting messages")) +
                    " delivered" +
                    (d->remaining > 0 ? "; " + std::to_string(d->remaining) +
                                            (d->remaining == 1 ? " more waits" : " more wait") +
                                            ": /deliver"
                                      : ""),
                now);
}

void TuiController::onSendReply(const PendingRequest& p, const protocol::Response& r,
                                int64_t now) {
  if (!r.isOk()) {
    // In this client's words where it has them (the server's suit any client).
    std::string why = r.code == protocol::ErrorCode::kNoSuchUser
                          ? "there is no user " + p.name + " (/list shows who is there)"
                          : r.error;
    model_.sendFailed(p.localId, why);
    state_.notify("not sent to " + p.name + ": " + why +
                      (r.code == protocol::ErrorCode::kNoSuchUser ? "" : " (Alt+R re-sends)"),
                  now, true);
    return;
  }
  sendRequestIds_.erase(p.localId);  // stored: nothing left to retry
  if (const auto* s = bodyAs<protocol::SendReply>(r)) {
    model_.sendStored(p.localId, *s, now);
    // The reply says whether the recipient is online right now.
    const User* u = model_.user(p.name);
    if (u == nullptr || u->online != s->recipientOnline) {
      model_.presence(p.name, s->recipientOnline, u != nullptr ? u->lastSeenMillis : 0);
    }
  }
}

void TuiController::onHistoryReply(const PendingRequest& p, const protocol::Response& r,
                                   int64_t now) {
  if (!r.isOk()) {
    state_.notify("history of " + p.name + ": " + r.error, now, true);
    return;
  }
  if (const auto* h = bodyAs<protocol::HistoryReply>(r)) {
    model_.historyPage(p.name, *h);
  }
}

void TuiController::onDeleteReply(const protocol::Response& r, int64_t now) {
  if (!r.isOk()) {
    state_.notify("the account was not deleted: " + r.error, now, true);
    return;
  }
  uint32_t discarded = 0;
  if (const auto* d = bodyAs<protocol::DeleteAccountReply>(r)) {
    discarded = d->discarded;
  }
  std::string self = model_.self();
  backToLogin("account " + self + " deleted" +
                  (discarded > 0 ? " (" + std::to_string(discarded) +
                                       " waiting messages went with it)"
                                 : ""),
              false);
  state_.form.user.setText("");
  state_.form.onPassword = false;
}

// The status strip: round trip, the leader and its epoch, how many nodes answer.
void TuiController::onStatusReply(const PendingRequest& p, const protocol::Response& r,
                                  int64_t now) {
  const auto* s = bodyAs<protocol::StatusReply>(r);
  if (s == nullptr) {
    return;
  }
  const protocol::NodeStatus& st = s->status;
  ConnectionStatus& c = state_.connection;
  c.rttMillis = static_cast<int>(now - p.sentAtMillis);
  if (st.role == "leader" || st.role == "standalone") {
    c.leaderId = st.nodeId;
    c.epoch = st.epoch;
  }
  if (!st.peers.empty()) {
    int up = 1;
    for (const auto& peer : st.peers) {
      up += peer.reachable && peer.id != st.nodeId ? 1 : 0;
    }
    c.nodesUp = up;
  } else if (st.role == "standalone") {
    c.nodesUp = 1;
    c.nodesTotal = 1;
  }
}

void TuiController::onPush(const protocol::Push& push, int64_t now) {
  if (const auto* m = std::get_if<protocol::MessagePush>(&push)) {
    const Conversation* before = model_.active();
    std::string beforePeer = before != nullptr ? before->peer : "";
    if (!model_.user(m->message.sender) || !model_.user(m->message.sender)->online) {
      model_.presence(m->message.sender, true, now);  // it just wrote: it is online
    }
    if (model_.received(m->message)) {
      request(protocol::AckRequest{{m->message.id}}, PendingRequest{Purpose::kAck, 0, "", now});
      if (before == nullptr) {
        model_.select(0);  // the first conversation opens itself
        selected();
      } else if (!protocol::sameUsername(beforePeer, m->message.sender) &&
                 !protocol::sameUsername(beforePeer, m->message.recipient) && settings_.bell) {
        effects_.bell = true;
      }
    }
  } else if (const auto* pr = std::get_if<protocol::PresencePush>(&push)) {
    model_.presence(pr->user, pr->online, pr->atMillis);
  } else if (const auto* l = std::get_if<protocol::LeaderPush>(&push)) {
    state_.connection.leaderId = l->nodeId;
    state_.connection.epoch = l->epoch;
  } else if (const auto* d = std::get_if<protocol::DeliveredPush>(&push)) {
    model_.delivered(*d);
  } else if (const auto* e = std::get_if<protocol::SessionEndedPush>(&push)) {
    backToLogin("the server ended the session: " + e->reason, true);
  } else if (const auto* t = std::get_if<protocol::TypingPush>(&push)) {
    model_.typing(t->user, now + kTypingShownMillis, t->room);
  } else if (const auto* room = std::get_if<protocol::RoomPush>(&push)) {
    onRoomPush(*room, now);
  }
}

void TuiController::onConnection(const client::ConnectionEvent& e, int64_t now) {
  ConnectionStatus& c = state_.connection;
  using Kind = client::ConnectionEvent::Kind;
  switch (e.kind) {
    case Kind::kConnected:
      c.node = e.address;
      if (!loggedIn_) {
        c.state = ConnectionStatus::State::kConnected;
      }
      nextStatusAt_ = 0;  // ask the new node at once
      break;
    case Kind::kLost:
      c.state = ConnectionStatus::State::kReconnecting;
      c.lostReason = e.detail;
      c.leaderId = 0;
      c.rttMillis = -1;
      state_.notify("connection to " + e.address + " lost: " + e.detail, now, true);
      break;
    case Kind::kRedirected:
      if (c.state == ConnectionStatus::State::kConnected && !loggedIn_) {
        c.node = e.address;
      } else {
        c.state = ConnectionStatus::State::kReconnecting;
        c.lostReason = e.detail;
      }
      break;
    case Kind::kResumed:
      c.state = ConnectionStatus::State::kFailedOver;
      c.node = e.address;
      c.resent = e.resent;
      failedOverAt_ = now;
      nextStatusAt_ = 0;
      state_.notify("session resumed on " + e.address + "; re-sent " + std::to_string(e.resent),
                    now);
      // Messages stored while this client had no session wait on the server: fetch them.
      if (loggedIn_) {
        request(protocol::DeliverRequest{0, "", ""},
                PendingRequest{Purpose::kDeliver, 0, "", now, true});
      }
      break;
    case Kind::kSessionLost:
      backToLogin("the session could not be resumed (" + e.detail + "); log in again", true);
      break;
  }
}

void TuiController::onNodes(std::vector<NodeRow> nodes) {
  uint64_t leaderCommit = 0;
  for (const auto& n : nodes) {
    if (n.up && n.role == "leader") {
      leaderCommit = std::max(leaderCommit, n.commitIndex);
    }
  }
  int up = 0;
  for (auto& n : nodes) {
    n.lag = leaderCommit > n.commitIndex && n.up ? leaderCommit - n.commitIndex : 0;
    up += n.up ? 1 : 0;
    if (n.up && n.role == "leader" && state_.connection.state != ConnectionStatus::State::kReconnecting) {
      state_.connection.leaderId = n.id;
      state_.connection.epoch = std::max(state_.connection.epoch, n.epoch);
    }
  }
  state_.connection.nodesUp = up;
  state_.connection.nodesTotal = static_cast<int>(nodes.size());
  state_.nodes = std::move(nodes);
}

void TuiController::tick(int64_t now, int64_t reconnectIn, bool connected,
                         const std::string& connectError) {
  ConnectionStatus& c = state_.connection;
  c.reconnectInMillis = static_cast<int>(connected ? 0 : reconnectIn);
  // Before any node answered, the login form says why the last attempt failed (a refused
  // port, a certificate that did not verify): the strip alone would only say "no node".
  auto connectMessage = [](const std::string& error) {
    // A refused port is the first thing a new user meets: nothing runs yet.
    bool refused = error.find("Connection refused") != std::string::npos;
    return "cannot reach the cluster: " + error +
           (refused ? "; is it running? (chat-supervisor starts one; tools/run in the source)"
                    : "");
  };
  bool showingOurs = !shownConnectError_.empty() &&
                     state_.form.message == connectMessage(shownConnectError_);
  if (!connected && !connectError.empty() && state_.screen == Screen::kLogin &&
      connectError != shownConnectError_ && (state_.form.message.empty() || showingOurs)) {
    shownConnectError_ = connectError;
    state_.form.message = connectMessage(connectError);
    state_.form.messageIsError = true;
  }
  if (connected && !shownConnectError_.empty()) {
    if (showingOurs) {
      state_.form.message.clear();
    }
    shownConnectError_.clear();
  }
  if (c.state == ConnectionStatus::State::kFailedOver && now - failedOverAt_ > kFailoverBannerMillis) {
    c.state = ConnectionStatus::State::kConnected;
  }
  if (connected && c.state == ConnectionStatus::State::kConnecting) {
    c.state = ConnectionStatus::State::kConnected;
  }
  if (connected && loggedIn_ && now >= nextUserRefreshAt_) {
    request(protocol::ListRequest{"", 0, 200}, PendingRequest{Purpose::kList, 0, "", now, true});
    nextUserRefreshAt_ = now + kUserRefreshMillis;
  }
  if (connected && loggedIn_) {
    flushReadMarkers(now);
  }
  if (connected && now >= nextStatusAt_) {
    bool waiting = std::any_of(pending_.begin(), pending_.end(),
                               [](const auto& p) { return p.second.purpose == Purpose::kStatus; });
    if (!waiting) {
      request(protocol::StatusRequest{}, PendingRequest{Purpose::kStatus, 0, "", now});
      nextStatusAt_ = now + kStatusEveryMillis;
    }
  }
}

}  // namespace chat::tui
