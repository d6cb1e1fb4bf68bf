#include "chat/storage/chat_state.h"

#include <algorithm>

#include "chat/common/overloaded.h"
#include "chat/protocol/wire_types.h"

namespace chat::storage {

using protocol::ErrorCode;

namespace {

ApplyResult failure(ErrorCode code, std::string message) {
  ApplyResult r;
  r.code = code;
  r.error = std::move(message);
  return r;
}

// A record of a session whose account was deleted (or deleted and created again) meanwhile.
ApplyResult sessionEnded(const std::string& name) {
  return failure(ErrorCode::kSessionExpired,
                 "your account " + name + " was deleted, so this session has ended; log in again");
}

ApplyResult noSuchRoom(const std::string& room) {
  return failure(ErrorCode::kNoSuchRoom,
                 "there is no room " + room + "; list rooms with /rooms or create it");
}

// FNV-1a, fed field by field with separators.
class Digest {
 public:
  void add(std::string_view s) {
    for (char c : s) {
      byte(static_cast<uint8_t>(c));
    }
    byte(0xff);
  }
  void add(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      byte(static_cast<uint8_t>(v >> (8 * i)));
    }
  }
  uint64_t value() const { return h_; }

 private:
  void byte(uint8_t b) {
    h_ ^= b;
    h_ *= 0x100000001b3ULL;
  }
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::vector<ApplyResult> ChatState::apply(std::span<const Command> entries) {
  MutexLock lock(mu_);
  std::vector<ApplyResult> results;
  results.reserve(entries.size());
  for (const auto& entry : entries) {
    CHAT_CHECK(entry.index == applied_.index + 1);
    results.push_back(applyOne(entry));
    applied_ = {entry.epoch, entry.index};
  }
  return results;
}

ChatState::AccountState* ChatState::accountByUid(uint64_t uid) {
  auto key = keyByUid_.find(uid);
  if (key == keyByUid_.end()) {
    return nullptr;
  }
  auto it = accounts_.find(key->second);
  return it == accounts_.end() ? nullptr : &it->second;
}

const ChatState::AccountState* ChatState::accountByUid(uint64_t uid) const {
  auto key = keyByUid_.find(uid);
  if (key == keyByUid_.end()) {
    return nullptr;
  }
  auto it = accounts_.find(key->second);
  return it == accounts_.end() ? nullptr : &it->second;
}

bool ChatState::addWaiting(AccountState& recipient, uint64_t id, const std::string& sender,
                           uint32_t bodyBytes, uint64_t roomId) {
  if (recipient.waiting.size() >= kMaxWaitingPerRecipient ||
      recipient.waitingBytes + bodyBytes > kMaxWaitingBytesPerRecipient) {
    return false;
  }
  if (!recipient.waiting.insert(id).second) {
    return true;
  }
  recipient.waitingBytes += bodyBytes;
  Waiting& w = waiting_[id];
  if (w.recipients.empty()) {
    w.sender = sender;
    w.bodyBytes = bodyBytes;
    w.roomId = roomId;
  }
  w.recipients.push_back(recipient.account.uid);
  return true;
}

bool ChatState::dropWaiting(AccountState& recipient, uint64_t id) {
  auto w = waiting_.find(id);
  if (w == waiting_.end()) {
    return false;
  }
  auto& uids = w->second.recipients;
  auto at = std::find(uids.begin(), uids.end(), recipient.account.uid);
  if (at == uids.end()) {
    return false;
  }
  uids.erase(at);
  recipient.waiting.erase(id);
  recipient.waitingBytes -= w->second.bodyBytes;
  if (uids.empty()) {
    waiting_.erase(w);
  }
  return true;
}

std::vector<uint64_t> ChatState::memberUids(const RoomState& room) const {
  std::vector<uint64_t> uids;
  uids.reserve(room.members.size());
  for (const auto& [uid, joined] : room.members) {
    uids.push_back(uid);
  }
  return uids;
}

std::optional<RoomChange> ChatState::removeMember(RoomIt room, AccountState& member) {
  RoomState& r = room->second;
  uint64_t uid = member.account.uid;
  member.rooms.erase(r.id);
  member.readUpTo.erase(r.id);
  r.members.erase(uid);
  if (r.members.empty()) {
    RoomChange change{r.id, r.name, 0, true};
    roomKeyById_.erase(r.id);
    rooms_.erase(room);
    return change;
  }
  if (r.ownerUid != uid) {
    return std::nullopt;
  }
  // The member who joined first of those left (the smallest index that added one).
  auto next = std::min_element(r.members.begin(), r.members.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  r.ownerUid = next->first;
  return RoomChange{r.id, r.name, r.ownerUid, false};
}

ChatState::AccountIt ChatState::findActing(const std::string& name, uint64_t uid) {
  auto it = accounts_.find(nameKey(name));
  if (it != accounts_.end() && uid != 0 && it->second.account.uid != uid) {
    return accounts_.end();  // the name belongs to another account now
  }
  return it;
}

ApplyResult ChatState::applyOne(const Command& entry) {
  // One function per kind of record; the room records are applyRoomRecord's. (Each lambda
  // asserts the lock it runs under: the thread-safety analysis does not see into lambdas.)
  return std::visit(
      Overloaded{
          [&](const CreateAccountOp& op) {
            mu_.assertHeld();
            return createAccount(entry, op);
          },
          [&](const DeleteAccountOp& op) {
            mu_.assertHeld();
            return deleteAccount(op);
          },
          [&](const StoreMessageOp& op) {
            mu_.assertHeld();
            return storeMessage(entry, op);
          },
          [&](const MarkDeliveredOp& op) {
            mu_.assertHeld();
            ApplyResult r;
            if (!markDelivered(op.recipient, op.recipientUid, op.ids, r.delivered)) {
              return failure(ErrorCode::kNoSuchUser, "no such user " + op.recipient);
            }
            return r;
          },
          [&](const AckBatchOp& op) {
            mu_.assertHeld();
            ApplyResult r;
            for (const auto& e : op.entries) {
              r.deliveredPerEntry.push_back(
                  markDelivered(e.recipient, e.recipientUid, e.ids, r.delivered).value_or(0));
            }
            return r;
          },
          [&](const SetLastSeenOp& op) {
            mu_.assertHeld();
            return setLastSeen(op);
          },
          [&](const NoOp&) { return ApplyResult{}; },
          [&](const EndSessionsOp& op) {
            mu_.assertHeld();
            return endSessions(op);
          },
          [&](const StoreRoomMessageOp& op) {
            mu_.assertHeld();
            return storeRoomMessage(entry, op);
          },
          [&](const SetReadMarkerOp& op) {
            mu_.assertHeld();
            return setReadMarker(op);
          },
          [&](const auto&) {
            mu_.assertHeld();
            return applyRoomRecord(entry);
          },
      },
      entry.op);
}

ApplyResult ChatState::createAccount(const Command& entry, const CreateAccountOp& op) {
  std::string key = nameKey(op.username);
  if (accounts_.contains(key)) {
    return failure(ErrorCode::kUsernameTaken,
                   "username " + op.username + " is taken; pick another");
  }
  // The uid is the record's index: unique for ever, so a name deleted and created again is a
  // different account.
  accounts_[key].account =
      Account{entry.index, op.username, op.passwordHash, op.createdAtMillis, 0, 0};
  keyByUid_[entry.index] = key;
  ApplyResult r;
  r.id = entry.index;
  return r;
}

ApplyResult ChatState::deleteAccount(const DeleteAccountOp& op) {
  auto it = findActing(op.username, op.uid);
  if (it == accounts_.end()) {
    return failure(ErrorCode::kNoSuchUser, "no such user " + op.username);
  }
  // Its waiting messages go with it; messages it sent stay with their recipients.
  ApplyResult r;
  AccountState& gone = it->second;
  r.count = static_cast<uint32_t>(gone.waiting.size());
  std::vector<uint64_t> waiting(gone.waiting.begin(), gone.waiting.end());
  for (uint64_t id : waiting) {
    dropWaiting(gone, id);
  }
  // It leaves its rooms: owners pass on, rooms left empty go.
  std::vector<uint64_t> rooms(gone.rooms.begin(), gone.rooms.end());
  for (uint64_t roomId : rooms) {
    auto room = rooms_.find(roomKeyById_.at(roomId));
    if (auto change = removeMember(room, gone)) {
      r.roomChanges.push_back(std::move(*change));
    }
  }
  // Its private conversations leave the other side's list too (what it sent stays in their
  // history).
  for (uint64_t peer : gone.peers) {
    pairs_.erase(pairKey(gone.account.uid, peer));
    if (AccountState* other = accountByUid(peer); other != nullptr && other != &gone) {
      other->peers.erase(gone.account.uid);
      other->readUpTo.erase(gone.account.uid);
    }
  }
  recent_.forgetRecipient(gone.account.uid);
  keyByUid_.erase(gone.account.uid);
  accounts_.erase(it);
  return r;
}

ApplyResult ChatState::storeMessage(const Command& entry, const StoreMessageOp& op) {
  auto sender = findActing(op.sender, op.senderUid);
  if (sender == accounts_.end()) {
    return sessionEnded(op.sender);
  }
  auto recipient = accounts_.find(nameKey(op.recipient));
  if (recipient == accounts_.end()) {
    return failure(ErrorCode::kNoSuchUser, "no such user " + op.recipient);
  }
  ApplyResult r;
  uint64_t senderUid = sender->second.account.uid;
  if (op.requestId != 0) {
    if (auto first = recent_.find(senderUid, op.requestId, entry.index)) {
      r.id = *first;
      r.duplicate = true;
      return r;
    }
  }
  AccountState& to = recipient->second;
  if (to.waiting.size() >= kMaxWaitingPerRecipient) {
    return failure(ErrorCode::kRecipientFull,
                   to.account.name + " has " + std::to_string(kMaxWaitingPerRecipient) +
                       " messages waiting, the most one account may hold; try again once they "
                       "have read some");
  }
  auto bodyBytes = static_cast<uint32_t>(op.body.size());
  if (to.waitingBytes + bodyBytes > kMaxWaitingBytesPerRecipient) {
    return failure(ErrorCode::kRecipientFull,
                   to.account.name + " has " + std::to_string(kMaxWaitingBytesPerRecipient >> 20) +
                       " MiB of messages waiting, the most one account may hold; try again once "
                       "they have read some");
  }
  if (op.requestId != 0) {
    recent_.add(senderUid, op.requestId, entry.index, to.account.uid);
  }
  addWaiting(to, entry.index, sender->second.account.name, bodyBytes, 0);
  uint64_t recipientUid = to.account.uid;
  remember(pairs_[pairKey(senderUid, recipientUid)], entry.index, senderUid);
  sender->second.peers.insert(recipientUid);
  to.peers.insert(senderUid);
  r.id = entry.index;
  return r;
}

ApplyResult ChatState::setLastSeen(const SetLastSeenOp& op) {
  auto it = findActing(op.username, op.uid);
  if (it == accounts_.end()) {
    // Refused, so the archive does not record it either.
    return failure(ErrorCode::kNoSuchUser, "no such user " + op.username);
  }
  it->second.account.lastSeenMillis = op.atMillis;
  return ApplyResult{};
}

ApplyResult ChatState::endSessions(const EndSessionsOp& op) {
  auto it = findActing(op.username, op.uid);
  if (it == accounts_.end()) {
    return failure(ErrorCode::kNoSuchUser, "no such user " + op.username);
  }
  ++it->second.account.tokenGeneration;
  it->second.account.lastSeenMillis = op.atMillis;
  return ApplyResult{};
}

ApplyResult ChatState::storeRoomMessage(const Command& entry, const StoreRoomMessageOp& op) {
  auto sender = findActing(op.sender, op.senderUid);
  if (sender == accounts_.end()) {
    return sessionEnded(op.sender);
  }
  auto room = rooms_.find(nameKey(op.room));
  if (room == rooms_.end()) {
    return noSuchRoom(op.room);
  }
  uint64_t senderUid = sender->second.account.uid;
  if (!room->second.members.contains(senderUid)) {
    return failure(ErrorCode::kNotMember,
                   "you are not in " + room->second.name + "; join it first");
  }
  ApplyResult r;
  r.roomId = room->second.id;
  r.room = room->second.name;
  if (op.requestId != 0) {
    if (auto first = recent_.find(senderUid, op.requestId, entry.index)) {
      r.id = *first;
      r.duplicate = true;
      return r;
    }
    recent_.add(senderUid, op.requestId, entry.index, 0);
  }
  // A copy waits for every other member; a member whose quota is full misses this one
  // (counted) rather than blocking the room.
  uint32_t bodyBytes = static_cast<uint32_t>(op.body.size());
  for (const auto& [uid, joined] : room->second.members) {
    if (uid == senderUid) {
      continue;
    }
    AccountState* member = accountByUid(uid);
    if (member != nullptr &&
        addWaiting(*member, entry.index, sender->second.account.name, bodyBytes, r.roomId)) {
      r.recipients.push_back(uid);
    } else {
      ++r.count;
    }
  }
  remember(room->second.recent, entry.index, senderUid);
  r.id = entry.index;
  return r;
}

void ChatState::remember(RecentWindow& window, uint64_t id, uint64_t senderUid) {
  if (window.size() >= kUnreadWindow) {
    window.erase(window.begin());
  }
  window.push_back(Recent{id, senderUid});
}

std::optional<uint32_t> ChatState::markDelivered(const std::string& name, uint64_t uid,
                                                 const std::vector<uint64_t>& ids,
                                                 std::vector<Delivery>& out) {
  auto recipient = findActing(name, uid);
  if (recipient == accounts_.end()) {
    return std::nullopt;
  }
  // Ids of other recipients' messages, unknown ids and repeats are ignored.
  uint32_t count = 0;
  for (uint64_t id : ids) {
    auto w = waiting_.find(id);
    if (w == waiting_.end()) {
      continue;
    }
    Delivery delivery{id, w->second.sender, w->second.roomId, recipient->second.account.name,
                      recipient->second.account.uid};
    if (dropWaiting(recipient->second, id)) {
      out.push_back(std::move(delivery));
      ++count;
    }
  }
  return count;
}

ApplyResult ChatState::setReadMarker(const SetReadMarkerOp& op) {
  auto who = findActing(op.username, op.uid);
  if (who == accounts_.end()) {
    return sessionEnded(op.username);
  }
  uint64_t conversation = 0;
  if (protocol::isRoomName(op.peer)) {
    auto room = rooms_.find(nameKey(op.peer));
    if (room == rooms_.end()) {
      return failure(ErrorCode::kNoSuchRoom, "there is no room " + op.peer);
    }
    if (!room->second.members.contains(who->second.account.uid)) {
      return failure(ErrorCode::kNotMember, "you are not in " + room->second.name);
    }
    conversation = room->second.id;
  } else {
    auto peer = accounts_.find(nameKey(op.peer));
    if (peer == accounts_.end()) {
      return failure(ErrorCode::kNoSuchUser, "no such user " + op.peer);
    }
    conversation = peer->second.account.uid;
  }
  uint64_t& marker = who->second.readUpTo[conversation];
  marker = std::max(marker, op.upToId);
  ApplyResult r;
  r.memberUid = who->second.account.uid;
  r.conversation = conversation;
  r.readUpTo = marker;
  return r;
}

ApplyResult ChatState::applyRoomRecord(const Command& entry) {
  return std::visit(Overloaded{
                        [&](const CreateRoomOp& op) {
                          mu_.assertHeld();
                          return createRoom(entry, op);
                        },
                        [&](const JoinRoomOp& op) {
                          mu_.assertHeld();
                          return joinRoom(entry, op);
                        },
                        [&](const LeaveRoomOp& op) {
                          mu_.assertHeld();
                          return leaveRoom(op);
                        },
                        [&](const InviteToRoomOp& op) {
                          mu_.assertHeld();
                          return inviteToRoom(entry, op);
                        },
                        [&](const auto&) -> ApplyResult {
                          CHAT_CHECK(false && "not a room record");
                          return ApplyResult{};
                        },
                    },
                    entry.op);
}

std::optional<ApplyResult> ChatState::atRoomLimit(const AccountState& who) {
  if (who.rooms.size() >= kMaxRoomsPerAccount) {
    return failure(ErrorCode::kRoomLimit,
                   who.account.name + " is in " + std::to_string(kMaxRoomsPerAccount) +
                       " rooms, the most one account may be in; leave one first");
  }
  return std::nullopt;
}

std::optional<ApplyResult> ChatState::roomFull(const RoomState& room) {
  if (room.members.size() >= kMaxRoomMembers) {
    return failure(ErrorCode::kRoomLimit, room.name + " has " + std::to_string(kMaxRoomMembers) +
                                              " members, the most a room may have");
  }
  return std::nullopt;
}

ApplyResult ChatState::membershipChanged(const RoomState& room, const AccountState& who) const {
  ApplyResult r;
  r.id = room.id;
  r.roomId = room.id;
  r.room = room.name;
  r.memberUid = who.account.uid;
  r.member = who.account.name;
  r.recipients = memberUids(room);
  return r;
}

std::optional<std::pair<ChatState::AccountIt, ChatState::RoomIt>> ChatState::actingIn(
    const std::string& name, uint64_t uid, const std::string& roomName, ApplyResult& refusal) {
  auto who = findActing(name, uid);
  if (who == accounts_.end()) {
    refusal = sessionEnded(name);
    return std::nullopt;
  }
  auto room = rooms_.find(nameKey(roomName));
  if (room == rooms_.end()) {
    refusal = noSuchRoom(roomName);
    return std::nullopt;
  }
  return std::pair{who, room};
}

ApplyResult ChatState::admit(const Command& entry, RoomState& room, AccountState& who) {
  if (room.members.contains(who.account.uid)) {
    ApplyResult same = membershipChanged(room, who);
    same.duplicate = true;
    same.recipients.clear();
    return same;
  }
  if (auto refused = roomFull(room)) {
    return *refused;
  }
  if (auto refused = atRoomLimit(who)) {
    return *refused;
  }
  room.members.emplace(who.account.uid, entry.index);
  who.rooms.insert(room.id);
  return membershipChanged(room, who);
}

ApplyResult ChatState::createRoom(const Command& entry, const CreateRoomOp& op) {
  auto owner = findActing(op.owner, op.ownerUid);
  if (owner == accounts_.end()) {
    return sessionEnded(op.owner);
  }
  std::string key = nameKey(op.room);
  if (auto existing = rooms_.find(key); existing != rooms_.end()) {
    return failure(ErrorCode::kRoomNameTaken, existing->second.name +
                                                  " exists already; join it (/join " +
                                                  existing->second.name + ") or pick another name");
  }
  if (auto refused = atRoomLimit(owner->second)) {
    return *refused;
  }
  RoomState& room = rooms_[key];
  room = RoomState{entry.index, op.room,     owner->second.account.uid,
                   op.policy,   op.atMillis, {{owner->second.account.uid, entry.index}},
                   {}};
  roomKeyById_[entry.index] = key;
  owner->second.rooms.insert(entry.index);
  return membershipChanged(room, owner->second);
}

ApplyResult ChatState::joinRoom(const Command& entry, const JoinRoomOp& op) {
  ApplyResult refusal;
  auto found = actingIn(op.username, op.uid, op.room, refusal);
  if (!found) {
    return refusal;
  }
  auto [who, room] = *found;
  if (!room->second.members.contains(who->second.account.uid) &&
      room->second.policy != RoomPolicy::kOpen) {
    return failure(ErrorCode::kInviteOnly,
                   room->second.name + " is invite-only; ask a member to invite you");
  }
  return admit(entry, room->second, who->second);
}

ApplyResult ChatState::leaveRoom(const LeaveRoomOp& op) {
  ApplyResult refusal;
  auto found = actingIn(op.username, op.uid, op.room, refusal);
  if (!found) {
    return refusal;
  }
  auto [who, room] = *found;
  if (!room->second.members.contains(who->second.account.uid)) {
    return failure(ErrorCode::kNotMember, "you are not in " + room->second.name);
  }
  ApplyResult r = membershipChanged(room->second, who->second);  // the members before it left
  if (auto change = removeMember(room, who->second)) {
    r.roomChanges.push_back(std::move(*change));
  }
  return r;
}

ApplyResult ChatState::inviteToRoom(const Command& entry, const InviteToRoomOp& op) {
  ApplyResult refusal;
  auto found = actingIn(op.inviter, op.inviterUid, op.room, refusal);
  if (!found) {
    return refusal;
  }
  auto [inviter, room] = *found;
  RoomState& r = room->second;
  if (!r.members.contains(inviter->second.account.uid)) {
    return failure(ErrorCode::kNotMember, "you are not in " + r.name + "; only members may invite");
  }
  if (r.policy == RoomPolicy::kInviteByOwner && r.ownerUid != inviter->second.account.uid) {
    return failure(ErrorCode::kInviteOnly, "only the owner of " + r.name + " may invite to it");
  }
  auto invitee = accounts_.find(nameKey(op.invitee));
  if (invitee == accounts_.end()) {
    return failure(ErrorCode::kNoSuchUser, "no such user " + op.invitee);
  }
  return admit(entry, r, invitee->second);
}

AppliedPosition ChatState::applied() const {
  MutexLock lock(mu_);
  return applied_;
}

std::optional<Account> ChatState::findAccount(std::string_view username) const {
  MutexLock lock(mu_);
  auto it = accounts_.find(nameKey(username));
  if (it == accounts_.end()) {
    return std::nullopt;
  }
  return it->second.account;
}

AccountPage ChatState::listAccounts(std::string_view pattern, uint32_t offset,
                                    uint32_t limit) const {
  MutexLock lock(mu_);
  AccountPage page;
  std::string p = nameKey(pattern);
  for (const auto& [key, state] : accounts_) {  // map order = name key order
    if (!p.empty() && !protocol::wildcardMatch(p, key)) {
      continue;
    }
    if (page.total >= offset && page.accounts.size() < limit) {
      Account a = state.account;
      a.passwordHash.clear();  // a listing never carries hashes
      page.accounts.push_back(std::move(a));
    }
    ++page.total;
  }
  return page;
}

uint32_t ChatState::pendingCount(std::string_view username) const {
  MutexLock lock(mu_);
  auto it = accounts_.find(nameKey(username));
  return it == accounts_.end() ? 0 : static_cast<uint32_t>(it->second.waiting.size());
}

std::vector<uint64_t> ChatState::pendingIds(std::string_view username, uint32_t limit,
                                            uint64_t maxBytes) const {
  MutexLock lock(mu_);
  std::vector<uint64_t> ids;
  auto it = accounts_.find(nameKey(username));
  if (it == accounts_.end()) {
    return ids;
  }
  uint64_t bytes = 0;
  for (uint64_t id : it->second.waiting) {
    if (limit != 0 && ids.size() >= limit) {
      break;
    }
    bytes += waiting_.at(id).bodyBytes;
    if (!ids.empty() && bytes > maxBytes) {
      break;
    }
    ids.push_back(id);
  }
  return ids;
}

std::optional<RoomInfo> ChatState::findRoom(std::string_view name) const {
  MutexLock lock(mu_);
  auto it = rooms_.find(nameKey(name));
  if (it == rooms_.end()) {
    return std::nullopt;
  }
  const RoomState& room = it->second;
  RoomInfo info{room.id, room.name, room.ownerUid, "", room.policy, room.createdAtMillis, {}};
  std::vector<std::pair<uint64_t, uint64_t>> byJoin;  // (joined at, uid)
  for (const auto& [uid, joined] : room.members) {
    byJoin.emplace_back(joined, uid);
  }
  std::sort(byJoin.begin(), byJoin.end());
  for (const auto& [joined, uid] : byJoin) {
    if (const AccountState* a = accountByUid(uid)) {
      info.members.push_back(RoomMember{uid, a->account.name, a->account.lastSeenMillis});
      if (uid == room.ownerUid) {
        info.owner = a->account.name;
      }
    }
  }
  return info;
}

RoomPage ChatState::listRooms(std::string_view pattern, uint32_t offset, uint32_t limit,
                              uint64_t viewerUid) const {
  MutexLock lock(mu_);
  RoomPage page;
  std::string p = nameKey(pattern);
  if (!p.empty() && p.front() == '#') {
    p.erase(0, 1);
  }
  for (const auto& [key, room] : rooms_) {  // map order = name order
    bool member = room.members.contains(viewerUid);
    if (room.policy != RoomPolicy::kOpen && !member) {
      continue;  // invite-only rooms are seen by their members only
    }
    if (!p.empty() && !protocol::wildcardMatch(p, std::string_view(key).substr(1))) {
      continue;
    }
    if (page.total >= offset && page.rooms.size() < limit) {
      const AccountState* owner = accountByUid(room.ownerUid);
      page.rooms.push_back(RoomSummary{room.name, room.policy,
                                       static_cast<uint32_t>(room.members.size()), member,
                                       owner != nullptr ? owner->account.name : ""});
    }
    ++page.total;
  }
  return page;
}

ConversationSummary ChatState::summarize(const AccountState& who,
                                                  const std::string& peer, bool isRoom,
                                                  uint64_t id, const RecentWindow& recent) const {
  ConversationSummary c{peer, isRoom, id, recent.empty() ? 0 : recent.back().id, 0, false, 0};
  auto marker = who.readUpTo.find(id);
  c.readUpTo = marker == who.readUpTo.end() ? 0 : marker->second;
  for (const auto& m : recent) {
    if (m.id > c.readUpTo && m.senderUid != who.account.uid) {
      ++c.unread;
    }
  }
  // The window is full and starts above the marker: older unread messages may lie beyond it.
  c.moreUnread = recent.size() >= kUnreadWindow && recent.front().id > c.readUpTo + 1;
  return c;
}

std::vector<ConversationSummary> ChatState::conversations(std::string_view username) const {
  MutexLock lock(mu_);
  std::vector<ConversationSummary> out;
  auto it = accounts_.find(nameKey(username));
  if (it == accounts_.end()) {
    return out;
  }
  const AccountState& who = it->second;
  for (uint64_t peerUid : who.peers) {
    const AccountState* peer = accountByUid(peerUid);
    auto pair = pairs_.find(pairKey(who.account.uid, peerUid));
    if (peer != nullptr && pair != pairs_.end()) {
      out.push_back(summarize(who, peer->account.name, false, peerUid, pair->second));
    }
  }
  for (uint64_t roomId : who.rooms) {
    const RoomState& room = rooms_.at(roomKeyById_.at(roomId));
    out.push_back(summarize(who, room.name, true, roomId, room.recent));
  }
  // Newest first; rooms nobody wrote in yet after them, newest room first.
  std::sort(out.begin(), out.end(), [](const ConversationSummary& a, const ConversationSummary& b) {
    return std::pair{a.lastId, a.id} > std::pair{b.lastId, b.id};
  });
  return out;
}

uint64_t ChatState::pendingTotal() const {
  MutexLock lock(mu_);
  uint64_t copies = 0;
  for (const auto& [id, w] : waiting_) {
    copies += w.recipients.size();
  }
  return copies;
}

uint64_t ChatState::digest() const {
  MutexLock lock(mu_);
  Digest d;
  d.add(applied_.index);
  for (const auto& [key, state] : accounts_) {
    const Account& a = state.account;
    d.add(key);
    d.add(a.uid);
    d.add(a.name);
    d.add(a.passwordHash);
    d.add(static_cast<uint64_t>(a.createdAtMillis));
    d.add(static_cast<uint64_t>(a.lastSeenMillis));
    d.add(a.tokenGeneration);
    d.add(state.waitingBytes);
    for (uint64_t id : state.waiting) {
      d.add(id);
      d.add(waiting_.at(id).sender);
      d.add(waiting_.at(id).roomId);
    }
  }
  for (const auto& [key, room] : rooms_) {
    d.add(key);
    d.add(room.id);
    d.add(room.name);
    d.add(room.ownerUid);
    d.add(static_cast<uint64_t>(room.policy));
    d.add(static_cast<uint64_t>(room.createdAtMillis));
    for (const auto& [uid, joined] : room.members) {
      d.add(uid);
      d.add(joined);
    }
    for (const auto& m : room.recent) {
      d.add(m.id);
      d.add(m.senderUid);
    }
  }
  for (const auto& [key, state] : accounts_) {
    for (const auto& [conversation, upTo] : state.readUpTo) {
      d.add(conversation);
      d.add(upTo);
    }
  }
  for (const auto& [pair, recent] : pairs_) {
    d.add(pair.first);
    d.add(pair.second);
    for (const auto& m : recent) {
      d.add(m.id);
      d.add(m.senderUid);
    }
  }
  // Requests still answered, order-independent (a sum of per-entry hashes).
  uint64_t requests = 0;
  recent_.forEachLive(applied_.index + 1, [&](uint64_t sender, uint64_t request, uint64_t id) {
    Digest one;
    one.add(sender);
    one.add(request);
    one.add(id);
    requests += one.value();
  });
  d.add(requests);
  return d.value();
}

void ChatState::clear() {
  MutexLock lock(mu_);
  accounts_.clear();
  keyByUid_.clear();
  waiting_.clear();
  rooms_.clear();
  roomKeyById_.clear();
  pairs_.clear();
  recent_.clear();
  applied_ = {};
}

void ChatState::loadAccount(const Account& account) {
  MutexLock lock(mu_);
  std::string key = nameKey(account.name);
  accounts_[key].account = account;
  keyByUid_[account.uid] = key;
}

void ChatState::loadRoom(uint64_t id, const std::string& name, uint64_t ownerUid,
                         RoomPolicy policy, int64_t createdAtMillis) {
  MutexLock lock(mu_);
  std::string key = nameKey(name);
  rooms_[key] = RoomState{id, name, ownerUid, policy, createdAtMillis, {}, {}};
  roomKeyById_[id] = key;
}

void ChatState::loadRoomMember(uint64_t roomId, uint64_t uid, uint64_t joinedAt) {
  MutexLock lock(mu_);
  auto key = roomKeyById_.find(roomId);
  AccountState* member = accountByUid(uid);
  if (key == roomKeyById_.end() || member == nullptr) {
    return;  // never written so, but disk data is not trusted
  }
  rooms_.at(key->second).members[uid] = joinedAt;
  member->rooms.insert(roomId);
}

void ChatState::loadWaiting(uint64_t id, const std::string& sender, uint64_t recipientUid,
                            uint32_t bodyBytes, uint64_t roomId) {
  MutexLock lock(mu_);
  AccountState* recipient = accountByUid(recipientUid);
  if (recipient == nullptr || recipient->waiting.contains(id)) {
    return;  // never written so (a deletion takes its messages), but disk data is not trusted
  }
  recipient->waiting.insert(id);
  recipient->waitingBytes += bodyBytes;
  Waiting& w = waiting_[id];
  w.sender = sender;
  w.bodyBytes = bodyBytes;
  w.roomId = roomId;
  w.recipients.push_back(recipientUid);
}

void ChatState::loadRequest(uint64_t senderUid, uint64_t requestId, uint64_t messageId,
                            uint64_t recipientUid) {
  MutexLock lock(mu_);
  recent_.add(senderUid, requestId, messageId, recipientUid);
}

void ChatState::loadReadMarker(uint64_t uid, uint64_t conversation, uint64_t upTo) {
  MutexLock lock(mu_);
  if (AccountState* who = accountByUid(uid)) {
    who->readUpTo[conversation] = upTo;
  }
}

void ChatState::loadPairRecent(uint64_t uidA, uint64_t uidB,
                               const std::vector<std::pair<uint64_t, uint64_t>>& recent) {
  MutexLock lock(mu_);
  AccountState* a = accountByUid(uidA);
  AccountState* b = accountByUid(uidB);
  if (a == nullptr || b == nullptr || recent.empty()) {
    return;  // never written so (a deletion takes its conversations), but disk data is not trusted
  }
  RecentWindow& window = pairs_[pairKey(uidA, uidB)];
  window.clear();
  for (const auto& [id, sender] : recent) {
    remember(window, id, sender);
  }
  a->peers.insert(uidB);
  b->peers.insert(uidA);
}

void ChatState::loadRoomRecent(uint64_t roomId,
                               const std::vector<std::pair<uint64_t, uint64_t>>& recent) {
  MutexLock lock(mu_);
  auto key = roomKeyById_.find(roomId);
  if (key == roomKeyById_.end()) {
    return;
  }
  RecentWindow& window = rooms_.at(key->second).recent;
  window.clear();
  for (const auto& [id, sender] : recent) {
    remember(window, id, sender);
  }
}

void ChatState::setApplied(AppliedPosition position) {
  MutexLock lock(mu_);
  applied_ = position;
}

}  // namespace chat::storage
