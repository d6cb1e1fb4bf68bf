#include <algorithm>

#include "chat/common/overloaded.h"
#include "chat/storage/message_archive.h"

namespace chat::storage {

Status InMemoryArchive::record(std::span<const Command> entries,
                               std::span<const ApplyResult> results) {
  MutexLock lock(mu_);
  auto uidOf = [&](const std::string& name) -> const Account* {
    mu_.assertHeld();
    std::string key = nameKey(name);
    for (const auto& [uid, a] : accounts_) {
      if (nameKey(a.name) == key) {
        return &a;
      }
    }
    return nullptr;
  };
  for (size_t i = 0; i < entries.size(); ++i) {
    const Command& entry = entries[i];
    const ApplyResult& result = results[i];
    if (result.isOk()) {
      std::visit(
          Overloaded{
              [&](const CreateAccountOp& op) {
                mu_.assertHeld();
                accounts_[entry.index] =
                    Account{entry.index, op.username, op.passwordHash, op.createdAtMillis, 0, 0};
              },
              [&](const DeleteAccountOp& op) {
                mu_.assertHeld();
                const Account* a = uidOf(op.username);
                if (a == nullptr) {
                  return;
                }
                uint64_t uid = a->uid;
                std::erase_if(messages_, [&](const auto& m) { return m.second.recipientUid == uid; });
                std::erase_if(roomWaiting_, [&](const auto& w) { return w.first == uid; });
                std::erase_if(readMarkers_, [&](const auto& m) {
                  return m.first.first == uid || m.first.second == uid;
                });
                for (auto& [id, room] : rooms_) {
                  room.members.erase(uid);
                }
                recordRoomChanges(result.roomChanges);
                accounts_.erase(uid);
              },
              [&](const StoreMessageOp& op) {
                mu_.assertHeld();
                const Account* sender = uidOf(op.sender);
                const Account* recipient = uidOf(op.recipient);
                if (result.duplicate || sender == nullptr || recipient == nullptr) {
                  return;
                }
                StoredMessage m;
                m.message = protocol::ChatMessage{entry.index, sender->name,     recipient->name,
                                                  op.body,     op.sentAtMillis, false};
                m.senderUid = sender->uid;
                m.recipientUid = recipient->uid;
                m.requestId = op.requestId;
                messages_[entry.index] = std::move(m);
              },
              [&](const MarkDeliveredOp&) {
                mu_.assertHeld();
                recordDeliveries(result.delivered);
              },
              [&](const AckBatchOp&) {
                mu_.assertHeld();
                recordDeliveries(result.delivered);
              },
              [&](const SetLastSeenOp& op) {
                mu_.assertHeld();
                std::string key = nameKey(op.username);
                for (auto& [uid, a] : accounts_) {
                  if (nameKey(a.name) == key) {
                    a.lastSeenMillis = op.atMillis;
                  }
                }
              },
              [&](const NoOp&) {},
              [&](const EndSessionsOp& op) {
                mu_.assertHeld();
                std::string key = nameKey(op.username);
                for (auto& [uid, a] : accounts_) {
                  if (nameKey(a.name) == key) {
                    ++a.tokenGeneration;
                    a.lastSeenMillis = op.atMillis;
                  }
                }
              },
              [&](const CreateRoomOp& op) {
                mu_.assertHeld();
                rooms_[result.roomId] = StoredRoom{
                    result.room, result.memberUid, op.policy, op.atMillis,
                    {{result.memberUid, entry.index}}};
              },
              [&](const JoinRoomOp&) {
                mu_.assertHeld();
                if (!result.duplicate) {
                  rooms_[result.roomId].members[result.memberUid] = entry.index;
                }
              },
              [&](const InviteToRoomOp&) {
                mu_.assertHeld();
                if (!result.duplicate) {
                  rooms_[result.roomId].members[result.memberUid] = entry.index;
                }
              },
              [&](const LeaveRoomOp&) {
                mu_.assertHeld();
                rooms_[result.roomId].members.erase(result.memberUid);
                readMarkers_.erase({result.memberUid, result.roomId});
                recordRoomChanges(result.roomChanges);
              },
              [&](const SetReadMarkerOp&) {
                mu_.assertHeld();
                readMarkers_[{result.memberUid, result.conversation}] = result.readUpTo;
              },
              [&](const StoreRoomMessageOp& op) {
                mu_.assertHeld();
                const Account* sender = uidOf(op.sender);
                if (result.duplicate || sender == nullptr) {
                  return;
                }
                StoredMessage m;
                m.message = protocol::ChatMessage{entry.index, sender->name,     result.room,
                                                  op.body,     op.sentAtMillis, false};
                m.senderUid = sender->uid;
                m.requestId = op.requestId;
                m.roomId = result.roomId;
                messages_[entry.index] = std::move(m);
                for (uint64_t member : result.recipients) {
                  roomWaiting_.emplace(member, entry.index);
                }
              },
          },
          entry.op);
    }
    applied_ = {entry.epoch, entry.index};
  }
  return Status::ok();
}

void InMemoryArchive::recordDeliveries(const std::vector<Delivery>& deliveries) {
  for (const auto& delivery : deliveries) {
    if (delivery.roomId != 0) {
      roomWaiting_.erase({delivery.recipientUid, delivery.id});
      continue;
    }
    auto m = messages_.find(delivery.id);
    if (m != messages_.end()) {
      m->second.message.delivered = true;
    }
  }
}

void InMemoryArchive::recordRoomChanges(const std::vector<RoomChange>& changes) {
  for (const auto& change : changes) {
    if (change.removed) {
      rooms_.erase(change.roomId);
      std::erase_if(readMarkers_, [&](const auto& m) { return m.first.second == change.roomId; });
    } else {
      rooms_[change.roomId].ownerUid = change.ownerUid;
    }
  }
}

Result<AppliedPosition> InMemoryArchive::appliedPosition() {
  MutexLock lock(mu_);
  return applied_;
}

Status InMemoryArchive::loadInto(ChatState& state) {
  MutexLock lock(mu_);
  for (const auto& [uid, a] : accounts_) {
    state.loadAccount(a);
  }
  for (const auto& [id, room] : rooms_) {
    state.loadRoom(id, room.name, room.ownerUid, room.policy, room.createdAtMillis);
    for (const auto& [uid, joined] : room.members) {
      state.loadRoomMember(id, uid, joined);
    }
  }
  for (const auto& [member, id] : roomWaiting_) {
    const StoredMessage& m = messages_.at(id);
    state.loadWaiting(id, m.message.sender, member, static_cast<uint32_t>(m.message.body.size()),
                      m.roomId);
  }
  for (const auto& [key, upTo] : readMarkers_) {
    state.loadReadMarker(key.first, key.second, upTo);
  }
  // Each conversation's newest messages, oldest first (what chat.db's queries give).
  std::map<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>> roomRecent;
  std::map<std::pair<uint64_t, uint64_t>, std::vector<std::pair<uint64_t, uint64_t>>> pairRecent;
  for (const auto& [id, m] : messages_) {
    if (m.roomId != 0) {
      if (rooms_.contains(m.roomId)) {
        roomRecent[m.roomId].emplace_back(id, m.senderUid);
      }
    } else {
      auto key = std::minmax(m.senderUid, m.recipientUid);
      pairRecent[{key.first, key.second}].emplace_back(id, m.senderUid);
    }
  }
  auto newest = [](std::vector<std::pair<uint64_t, uint64_t>> all) {
    if (all.size() > kUnreadWindow) {
      all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(kUnreadWindow));
    }
    return all;
  };
  for (const auto& [room, recent] : roomRecent) {
    state.loadRoomRecent(room, newest(recent));
  }
  for (const auto& [pair, recent] : pairRecent) {
    state.loadPairRecent(pair.first, pair.second, newest(recent));
  }
  for (const auto& [id, m] : messages_) {
    if (m.roomId == 0 && !m.message.delivered) {
      state.loadWaiting(id, m.message.sender, m.recipientUid,
                        static_cast<uint32_t>(m.message.body.size()));
    }
    if (m.requestId != 0 && id + kRequestWindow > applied_.index) {
      state.loadRequest(m.senderUid, m.requestId, id, m.recipientUid);
    }
  }
  state.setApplied(applied_);
  return Status::ok();
}

Result<std::vector<protocol::ChatMessage>> InMemoryArchive::messagesById(
    std::span<const uint64_t> ids) {
  MutexLock lock(mu_);
  std::vector<protocol::ChatMessage> out;
  for (uint64_t id : ids) {
    auto it = messages_.find(id);
    if (it != messages_.end()) {
      out.push_back(it->second.message);
    }
  }
  return out;
}

Result<HistoryPage> InMemoryArchive::history(std::string_view username, std::string_view peer,
                                             uint64_t beforeId, uint32_t limit) {
  MutexLock lock(mu_);
  HistoryPage page;
  std::string key = nameKey(username);
  uint64_t me = 0;
  for (const auto& [uid, a] : accounts_) {
    if (nameKey(a.name) == key) {
      me = uid;
    }
  }
  std::string peerKey = nameKey(peer);
  uint64_t roomId = 0;
  if (protocol::isRoomName(peer)) {
    // A room's history is the same for whoever asks (the service checks membership).
    for (const auto& [id, room] : rooms_) {
      if (nameKey(room.name) == peerKey) {
        roomId = id;
      }
    }
    if (roomId == 0) {
      return page;
    }
  } else if (me == 0) {
    return page;
  }
  for (auto it = messages_.rbegin(); it != messages_.rend(); ++it) {
    const auto& m = it->second;
    if (beforeId != 0 && it->first >= beforeId) {
      continue;
    }
    // Only this account's side: a recreated account with an old name sees none of the old one.
    bool mine = roomId != 0 ? m.roomId == roomId
                            : m.roomId == 0 &&
                                  ((m.senderUid == me && nameKey(m.message.recipient) == peerKey) ||
                                   (m.recipientUid == me && nameKey(m.message.sender) == peerKey));
    if (!mine) {
      continue;
    }
    if (page.messages.size() == limit) {
      page.hasMore = true;
      break;
    }
    page.messages.push_back(m.message);
  }
  std::reverse(page.messages.begin(), page.messages.end());
  return page;
}

Result<std::vector<protocol::ChatMessage>> InMemoryArchive::messagesAfter(uint64_t afterId,
                                                                          uint32_t limit) {
  MutexLock lock(mu_);
  std::vector<protocol::ChatMessage> out;
  for (auto it = messages_.upper_bound(afterId); it != messages_.end() && out.size() < limit;
       ++it) {
    out.push_back(it->second.message);
  }
  return out;
}

}  // namespace chat::storage
