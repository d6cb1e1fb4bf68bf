// ChatModel: what chat-tui knows, with no curses and no sockets in it: the conversations
// (ordered by the server's message ids, duplicates dropped by id, older pages merged in
// from history), each own message's delivery state, unread counts and the read marker, the
// "delivered while you were away" separator, the users with online state and last seen,
// and completion. The app feeds it protocol events; the renderer draws it.
// Thread contract: not thread-safe; the UI thread owns it.
#ifndef CHAT_TUI_CHAT_MODEL_H_
#define CHAT_TUI_CHAT_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/protocol/messages.h"

namespace chat::tui {

// A user name folded for comparing and keying (names are case-insensitive, ASCII), as the
// server folds them.
std::string lowerName(std::string_view name);

enum class Delivery {
  kSending,  // not yet acknowledged by the cluster
  kStored,   // stored; the recipient was online and it was pushed
  kWaiting,  // stored; the recipient is offline, it waits for them
  kDelivered,  // the recipient's client acknowledged it
  kFailed,     // the cluster refused it or never answered; can be retried
  kIncoming,   // a message to us
};
const char* deliveryName(Delivery d);

struct Message {
  uint64_t id = 0;       // the server's sequence; 0 while sending
  uint64_t localId = 0;  // ours, for messages we send
  std::string sender;
  std::string recipient;
  std::string body;
  int64_t sentAtMillis = 0;
  Delivery delivery = Delivery::kIncoming;
  int64_t waitingSinceMillis = 0;  // kWaiting: since when
  std::string failure;             // kFailed: why
  // An own room message: how many members it waits for (from the send reply) and who of them
  // acknowledged it (delivered pushes), for "✓✓ 3/5".
  uint32_t recipients = 0;
  std::vector<std::string> deliveredTo;
};

struct Conversation {
  std::string peer;  // a user, or a room ("#name")
  std::vector<Message> messages;  // stored ones by id, then ones still sending
  uint64_t readUpTo = 0;          // the newest id the user has seen here
  uint64_t readBefore = 0;        // readUpTo when the conversation was last selected
  uint32_t unread = 0;
  uint64_t awaySeparatorBefore = 0;  // id of the first message delivered while away
  bool hasOlder = true;              // more history on the server
  int64_t typingUntilMillis = 0;     // the peer is typing until then (a typing push)
  std::string typingUser;            // who (in a room, one of its members)
  // From the server's conversation list: there may be more unread than `unread` ("99+"), and
  // the newest id its count covers (messages up to it are not counted again as they arrive).
  bool moreUnread = false;
  uint64_t countedUpTo = 0;
  // A room's members as /members last said (name, online), in joining order.
  std::vector<protocol::UserEntry> members;
  bool isRoom() const { return protocol::isRoomName(peer); }
};

// A room known from /rooms that the user is not in.
struct KnownRoom {
  protocol::RoomEntry entry;
};

struct User {
  std::string name;
  bool online = false;
  int64_t lastSeenMillis = 0;
};

class ChatModel {
 public:
  void setSelf(std::string name) { self_ = std::move(name); }
  const std::string& self() const { return self_; }

  // Conversations, in the order they were opened (Alt+1..0 address them).
  Conversation& open(const std::string& peer);
  void close(const std::string& peer);
  const std::vector<Conversation>& conversations() const { return conversations_; }
  const Conversation* find(const std::string& peer) const;
  // The conversation shown; selecting one marks it read.
  const Conversation* active() const;
  void select(size_t index);
  void select(const std::string& peer);
  void selectNext();
  void selectPrevious();
  // The next conversation with unread messages after the active one (Alt+A); false if none.
  bool selectNextUnread();
  uint32_t totalUnread() const;

  // Sending: beginSend returns the local id; the reply or failure settles it.
  uint64_t beginSend(const std::string& peer, const std::string& body, int64_t nowMillis);
  void sendStored(uint64_t localId, const protocol::SendReply& reply, int64_t nowMillis);
  void sendFailed(uint64_t localId, const std::string& why);
  // A failed message back to sending (the app re-submits it); its body, or nullopt.
  std::optional<Message> retry(uint64_t localId);
  // A recipient acknowledged one of our messages (in a room: one member of it).
  void delivered(const protocol::DeliveredPush& push);

  // A message for us (pushed, or handed over by deliver). Returns false for a duplicate.
  // `whileAway`: it waited for us while we were offline (the login's deliver).
  bool received(const protocol::ChatMessage& m, bool whileAway = false);
  // An older page of a conversation (PgUp): merged by id.
  void historyPage(const std::string& peer, const protocol::HistoryReply& page);
  // The server's conversation list (at login): each conversation opened, newest first after
  // those already open, with the server's unread count and read marker.
  void conversationList(const protocol::ConversationsReply& list);
  // Rooms from /rooms; those we are not in show in the user list after the conversations.
  void rooms(const std::vector<protocol::RoomEntry>& list);
  const std::vector<protocol::RoomEntry>& knownRooms() const { return rooms_; }
  void roomMembers(const protocol::RoomMembersReply& reply);

  // A user is online or not (since `atMillis`); a room name is ignored: rooms have members
  // online, not a presence.
  void presence(const std::string& user, bool online, int64_t atMillis);
  // `user` is typing to us: shown in that conversation's title until `untilMillis`, or until
  // their message arrives. Nothing happens without an open conversation with them.
  void typing(const std::string& user, int64_t untilMillis, const std::string& room = "");
  void users(const std::vector<protocol::UserEntry>& list);
  const std::map<std::string, User>& knownUsers() const { return users_; }
  const User* user(const std::string& name) const;

  // Completion candidates for `prefix`: commands (when it starts with '/'), else users,
  // the most recent conversation partners first.
  std::vector<std::string> complete(const std::string& prefix) const;
  // The first message of the active conversation that was unread when it was selected
  // (Alt+U); 0 when there was none.
  uint64_t firstUnread() const;
  // Messages of the active conversation containing `text` (case-insensitive), by id.
  std::vector<uint64_t> search(const std::string& text) const;

 private:
  Conversation* findMutable(const std::string& peer);
  Message* findLocal(uint64_t localId, Conversation** in);
  void insertOrdered(Conversation& c, Message m);
  void markRead(Conversation& c);

  std::string self_;
  std::vector<Conversation> conversations_;
  size_t active_ = 0;
  std::map<std::string, User> users_;
  std::vector<protocol::RoomEntry> rooms_;
  std::vector<std::string> recentPartners_;  // most recent first
  uint64_t nextLocalId_ = 0;
};

}  // namespace chat::tui

#endif  // CHAT_TUI_CHAT_MODEL_H_
