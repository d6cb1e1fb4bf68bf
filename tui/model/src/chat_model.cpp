#include "chat/tui/chat_model.h"

#include <algorithm>

#include "chat/tui/commands.h"

namespace chat::tui {

namespace {

bool sameName(const std::string& a, const std::string& b) {
  return protocol::sameUsername(a, b);
}

}  // namespace

std::string lowerName(std::string_view name) {
  std::string s(name);
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

const char* deliveryName(Delivery d) {
  switch (d) {
    case Delivery::kSending:
      return "sending";
    case Delivery::kStored:
      return "stored";
    case Delivery::kWaiting:
      return "waiting";
    case Delivery::kDelivered:
      return "delivered";
    case Delivery::kFailed:
      return "failed";
    case Delivery::kIncoming:
      return "incoming";
  }
  return "unknown";
}

Conversation* ChatModel::findMutable(const std::string& peer) {
  for (auto& c : conversations_) {
    if (sameName(c.peer, peer)) {
      return &c;
    }
  }
  return nullptr;
}

const Conversation* ChatModel::find(const std::string& peer) const {
  return const_cast<ChatModel*>(this)->findMutable(peer);
}

Conversation& ChatModel::open(const std::string& peer) {
  if (Conversation* c = findMutable(peer)) {
    return *c;
  }
  Conversation c;
  c.peer = peer;
  conversations_.push_back(std::move(c));
  return conversations_.back();
}

void ChatModel::close(const std::string& peer) {
  auto it = std::find_if(conversations_.begin(), conversations_.end(),
                         [&](const Conversation& c) { return sameName(c.peer, peer); });
  if (it == conversations_.end()) {
    return;
  }
  size_t index = static_cast<size_t>(it - conversations_.begin());
  conversations_.erase(it);
  if (active_ > index || active_ >= conversations_.size()) {
    active_ = active_ > 0 ? active_ - 1 : 0;
  }
}

const Conversation* ChatModel::active() const {
  return active_ < conversations_.size() ? &conversations_[active_] : nullptr;
}

void ChatModel::markRead(Conversation& c) {
  c.unread = 0;
  c.moreUnread = false;
  for (const auto& m : c.messages) {
    c.readUpTo = std::max(c.readUpTo, m.id);
  }
}

void ChatModel::select(size_t index) {
  if (index < conversations_.size()) {
    active_ = index;
    conversations_[active_].readBefore = conversations_[active_].readUpTo;
    markRead(conversations_[active_]);
  }
}

void ChatModel::select(const std::string& peer) {
  for (size_t i = 0; i < conversations_.size(); ++i) {
    if (sameName(conversations_[i].peer, peer)) {
      return select(i);
    }
  }
}

void ChatModel::selectNext() {
  if (!conversations_.empty()) {
    select((active_ + 1) % conversations_.size());
  }
}

void ChatModel::selectPrevious() {
  if (!conversations_.empty()) {
    select((active_ + conversations_.size() - 1) % conversations_.size());
  }
}

bool ChatModel::selectNextUnread() {
  for (size_t k = 1; k <= conversations_.size(); ++k) {
    size_t i = (active_ + k) % conversations_.size();
    if (conversations_[i].unread > 0) {
      select(i);
      return true;
    }
  }
  return false;
}

uint32_t ChatModel::totalUnread() const {
  uint32_t n = 0;
  for (const auto& c : conversations_) {
    n += c.unread;
  }
  return n;
}

void ChatModel::insertOrdered(Conversation& c, Message m) {
  // Stored messages by id; messages still sending (id 0) stay at the end in send order.
  auto pos = std::find_if(c.messages.begin(), c.messages.end(),
                          [&](const Message& x) { return x.id == 0 || x.id > m.id; });
  c.messages.insert(pos, std::move(m));
}

uint64_t ChatModel::beginSend(const std::string& peer, const std::string& body,
                              int64_t nowMillis) {
  Conversation& c = open(peer);
  Message m;
  m.localId = ++nextLocalId_;
  m.sender = self_;
  m.recipient = c.peer;
  m.body = body;
  m.sentAtMillis = nowMillis;
  m.delivery = Delivery::kSending;
  c.messages.push_back(std::move(m));
  recentPartners_.erase(std::remove_if(recentPartners_.begin(), recentPartners_.end(),
                                       [&](const std::string& p) { return sameName(p, peer); }),
                        recentPartners_.end());
  recentPartners_.insert(recentPartners_.begin(), c.peer);
  return nextLocalId_;
}

Message* ChatModel::findLocal(uint64_t localId, Conversation** in) {
  for (auto& c : conversations_) {
    for (auto& m : c.messages) {
      if (m.localId == localId && localId != 0) {
        *in = &c;
        return &m;
      }
    }
  }
  return nullptr;
}

void ChatModel::sendStored(uint64_t localId, const protocol::SendReply& reply,
                           int64_t nowMillis) {
  Conversation* c = nullptr;
  Message* m = findLocal(localId, &c);
  if (m == nullptr) {
    return;
  }
  Message settled = *m;
  c->messages.erase(c->messages.begin() + (m - c->messages.data()));
  // A reply re-sent after a failover may name a message we already have: keep one.
  for (const auto& x : c->messages) {
    if (x.id == reply.messageId) {
      return;
    }
  }
  settled.id = reply.messageId;
  settled.sentAtMillis = reply.sentAtMillis != 0 ? reply.sentAtMillis : settled.sentAtMillis;
  settled.delivery = reply.recipientOnline ? Delivery::kStored : Delivery::kWaiting;
  settled.waitingSinceMillis = reply.recipientOnline ? 0 : nowMillis;
  if (c->isRoom()) {
    settled.recipients = reply.recipients;
    // A room where nobody else is: stored, and there is nobody to deliver it to.
    settled.delivery = reply.recipients == 0 || reply.recipientOnline ? Delivery::kStored
                                                                      : Delivery::kWaiting;
  }
  c->readUpTo = std::max(c->readUpTo, settled.id);  // our own messages are read
  insertOrdered(*c, std::move(settled));
}

void ChatModel::sendFailed(uint64_t localId, const std::string& why) {
  Conversation* c = nullptr;
  if (Message* m = findLocal(localId, &c)) {
    m->delivery = Delivery::kFailed;
    m->failure = why;
  }
}

std::optional<Message> ChatModel::retry(uint64_t localId) {
  Conversation* c = nullptr;
  Message* m = findLocal(localId, &c);
  if (m == nullptr || m->delivery != Delivery::kFailed) {
    return std::nullopt;
  }
  m->delivery = Delivery::kSending;
  m->failure.clear();
  return *m;
}

void ChatModel::delivered(const protocol::DeliveredPush& push) {
  if (Conversation* c = findMutable(push.recipient)) {
    for (auto& m : c->messages) {
      if (m.id == push.messageId && m.delivery != Delivery::kIncoming) {
        m.delivery = Delivery::kDelivered;
        return;
      }
    }
  }
  // A room message: one member has it now.
  for (auto& c : conversations_) {
    if (!c.isRoom()) {
      continue;
    }
    for (auto& m : c.messages) {
      if (m.id != push.messageId || m.delivery == Delivery::kIncoming) {
        continue;
      }
      bool known = std::any_of(m.deliveredTo.begin(), m.deliveredTo.end(),
                               [&](const std::string& n) { return sameName(n, push.recipient); });
      if (!known) {
        m.deliveredTo.push_back(push.recipient);
      }
      if (m.deliveredTo.size() >= m.recipients) {
        m.delivery = Delivery::kDelivered;
      } else if (m.delivery == Delivery::kWaiting) {
        m.delivery = Delivery::kStored;  // someone has it
      }
      return;
    }
  }
}

bool ChatModel::received(const protocol::ChatMessage& in, bool whileAway) {
  bool ours = sameName(in.sender, self_);
  bool room = protocol::isRoomName(in.recipient);
  const std::string& peer = ours || room ? in.recipient : in.sender;
  Conversation& c = open(peer);
  for (const auto& m : c.messages) {
    if (m.id == in.id) {
      return false;  // seen already (a re-delivery after a reconnect)
    }
  }
  Message m;
  m.id = in.id;
  m.sender = in.sender;
  m.recipient = in.recipient;
  m.body = in.body;
  m.sentAtMillis = in.sentAtMillis;
  m.delivery = ours ? (in.delivered ? Delivery::kDelivered : Delivery::kStored)
                    : Delivery::kIncoming;
  if (whileAway && !ours && (c.awaySeparatorBefore == 0 || in.id < c.awaySeparatorBefore)) {
    c.awaySeparatorBefore = in.id;
  }
  insertOrdered(c, std::move(m));
  const Conversation* shown = active();
  if (!ours) {
    if (!room || sameName(c.typingUser, in.sender)) {
      c.typingUntilMillis = 0;  // what they were typing has arrived
    }
    if (shown == &c) {
      c.readUpTo = std::max(c.readUpTo, in.id);
    } else if (in.id > c.readUpTo && in.id > c.countedUpTo) {
      ++c.unread;  // (the server's count at login covers up to countedUpTo)
    }
  }
  return true;
}

void ChatModel::conversationList(const protocol::ConversationsReply& list) {
  for (const auto& e : list.conversations) {
    Conversation& c = open(e.peer);
    c.readUpTo = std::max(c.readUpTo, e.readUpTo);
    c.countedUpTo = std::max(c.countedUpTo, e.lastId);
    if (active() == &c) {
      continue;  // shown: read
    }
    c.unread = e.unread;
    c.moreUnread = e.moreUnread;
    // Messages that arrived before the list (the login's deliver) are in its count.
    for (const auto& m : c.messages) {
      if (m.id > e.lastId && m.id > c.readUpTo && m.delivery == Delivery::kIncoming) {
        ++c.unread;
      }
    }
  }
}

void ChatModel::rooms(const std::vector<protocol::RoomEntry>& list) {
  for (const auto& e : list) {
    auto it = std::find_if(rooms_.begin(), rooms_.end(),
                           [&](const protocol::RoomEntry& r) { return sameName(r.name, e.name); });
    if (it == rooms_.end()) {
      rooms_.push_back(e);
    } else {
      *it = e;
    }
  }
}

void ChatModel::roomMembers(const protocol::RoomMembersReply& reply) {
  rooms({reply.room});
  if (Conversation* c = findMutable(reply.room.name)) {
    c->members = reply.members;
  }
  users(reply.members);
}

void ChatModel::historyPage(const std::string& peer, const protocol::HistoryReply& page) {
  Conversation& c = open(peer);
  for (const auto& m : page.messages) {
    bool known = std::any_of(c.messages.begin(), c.messages.end(),
                             [&](const Message& x) { return x.id == m.id; });
    if (known) {
      continue;
    }
    Message x;
    x.id = m.id;
    x.sender = m.sender;
    x.recipient = m.recipient;
    x.body = m.body;
    x.sentAtMillis = m.sentAtMillis;
    bool ours = sameName(m.sender, self_);
    // From history, an own message the recipient has not acknowledged still waits for them
    // (a room message's delivery is per member: shown as stored).
    x.delivery = !ours ? Delivery::kIncoming
                 : protocol::isRoomName(m.recipient)
                     ? Delivery::kStored
                     : (m.delivered ? Delivery::kDelivered : Delivery::kWaiting);
    insertOrdered(c, std::move(x));
  }
  c.hasOlder = page.hasMore;
  if (active() == &c) {
    markRead(c);  // on screen: seen
  }
}

void ChatModel::typing(const std::string& user, int64_t untilMillis, const std::string& room) {
  if (Conversation* c = findMutable(room.empty() ? user : room)) {
    c->typingUntilMillis = untilMillis;
    c->typingUser = user;
  }
}

void ChatModel::presence(const std::string& name, bool online, int64_t atMillis) {
  if (protocol::isRoomName(name)) {
    return;  // a room has members online, not a presence of its own (a send reply to it)
  }
  User& u = users_[lowerName(name)];
  u.name = name;
  u.online = online;
  if (!online) {
    u.lastSeenMillis = atMillis;
  }
}

void ChatModel::users(const std::vector<protocol::UserEntry>& list) {
  for (const auto& e : list) {
    User& u = users_[lowerName(e.name)];
    u.name = e.name;
    u.online = e.online;
    u.lastSeenMillis = e.lastSeenMillis;
  }
}

const User* ChatModel::user(const std::string& name) const {
  auto it = users_.find(lowerName(name));
  return it == users_.end() ? nullptr : &it->second;
}

std::vector<std::string> ChatModel::complete(const std::string& prefix) const {
  std::vector<std::string> out;
  std::string p = lowerName(prefix);
  auto matches = [&](const std::string& s) { return lowerName(s).rfind(p, 0) == 0; };
  auto add = [&](const std::string& s) {
    if (matches(s) && std::none_of(out.begin(), out.end(),
                                   [&](const std::string& o) { return sameName(o, s); })) {
      out.push_back(s);
    }
  };
  if (!prefix.empty() && prefix[0] == '/') {
    for (const auto& c : commandTable()) {
      add(c.name);
    }
    return out;
  }
  for (const auto& partner : recentPartners_) {
    add(partner);
  }
  for (const auto& c : conversations_) {
    add(c.peer);
  }
  for (const auto& [key, u] : users_) {
    add(u.name);
  }
  return out;
}

uint64_t ChatModel::firstUnread() const {
  const Conversation* c = active();
  if (c == nullptr) {
    return 0;
  }
  for (const auto& m : c->messages) {
    if (m.delivery == Delivery::kIncoming && m.id > c->readBefore) {
      return m.id;
    }
  }
  return 0;
}

std::vector<uint64_t> ChatModel::search(const std::string& text) const {
  std::vector<uint64_t> out;
  const Conversation* c = active();
  if (c == nullptr || text.empty()) {
    return out;
  }
  std::string needle = lowerName(text);
  for (const auto& m : c->messages) {
    if (m.id != 0 && lowerName(m.body).find(needle) != std::string::npos) {
      out.push_back(m.id);
    }
  }
  return out;
}

}  // namespace chat::tui
