#include "chat/storage/chat_state.h"

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

ChatState::AccountIt ChatState::findActing(const std::string& name, uint64_t uid) {
  auto it = accounts_.find(nameKey(name));
  if (it != accounts_.end() && uid != 0 && it->second.account.uid != uid) {
    return accounts_.end();  // the name belongs to another account now
  }
  return it;
}

ApplyResult ChatState::applyOne(const Command& entry) {
  return std::visit(
      Overloaded{
          [&](const CreateAccountOp& op) {
            mu_.assertHeld();
            std::string key = nameKey(op.username);
            if (accounts_.contains(key)) {
              return failure(ErrorCode::kUsernameTaken,
                             "username " + op.username + " is taken; pick another");
            }
            // The uid is the record's index: unique for ever, so a name deleted and created
            // again is a different account.
            accounts_[key].account =
                Account{entry.index, op.username, op.passwordHash, op.createdAtMillis, 0, 0};
            keyByUid_[entry.index] = key;
            ApplyResult r;
            r.id = entry.index;
            return r;
          },
          [&](const DeleteAccountOp& op) {
            mu_.assertHeld();
            auto it = findActing(op.username, op.uid);
            if (it == accounts_.end()) {
              return failure(ErrorCode::kNoSuchUser, "no such user " + op.username);
            }
            // Its waiting messages go with it; messages it sent stay with their recipients.
            ApplyResult r;
            r.count = static_cast<uint32_t>(it->second.waiting.size());
            for (uint64_t id : it->second.waiting) {
              waiting_.erase(id);
            }
            recent_.forgetRecipient(it->second.account.uid);
            keyByUid_.erase(it->second.account.uid);
            accounts_.erase(it);
            return r;
          },
          [&](const StoreMessageOp& op) {
            mu_.assertHeld();
            auto sender = findActing(op.sender, op.senderUid);
            if (sender == accounts_.end()) {
              return failure(ErrorCode::kSessionExpired,
                             "your account " + op.sender +
                                 " was deleted, so this session has ended; log in again");
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
            if (recipient->second.waiting.size() >= kMaxWaitingPerRecipient) {
              return failure(ErrorCode::kRecipientFull,
                             recipient->second.account.name + " has " +
                                 std::to_string(kMaxWaitingPerRecipient) +
                                 " messages waiting, the most one account may hold; try again "
                                 "once they have read some");
            }
            uint32_t bodyBytes = static_cast<uint32_t>(op.body.size());
            if (recipient->second.waitingBytes + bodyBytes > kMaxWaitingBytesPerRecipient) {
              return failure(ErrorCode::kRecipientFull,
                             recipient->second.account.name + " has " +
                                 std::to_string(kMaxWaitingBytesPerRecipient >> 20) +
                                 " MiB of messages waiting, the most one account may hold; try "
                                 "again once they have read some");
            }
            if (op.requestId != 0) {
              recent_.add(senderUid, op.requestId, entry.index, recipient->second.account.uid);
            }
            recipient->second.waiting.insert(entry.index);
            recipient->second.waitingBytes += bodyBytes;
            waiting_[entry.index] = Waiting{sender->second.account.name,
                                            recipient->second.account.uid, bodyBytes};
            r.id = entry.index;
            return r;
          },
          [&](const MarkDeliveredOp& op) {
            mu_.assertHeld();
            auto recipient = findActing(op.recipient, op.recipientUid);
            if (recipient == accounts_.end()) {
              return failure(ErrorCode::kNoSuchUser, "no such user " + op.recipient);
            }
            // Ids of other recipients' messages, unknown ids and repeats are ignored.
            ApplyResult r;
            for (uint64_t id : op.ids) {
              auto w = waiting_.find(id);
              if (w != waiting_.end() && w->second.recipientUid == recipient->second.account.uid) {
                r.delivered.emplace_back(id, std::move(w->second.sender));
                recipient->second.waiting.erase(id);
                recipient->second.waitingBytes -= w->second.bodyBytes;
                waiting_.erase(w);
              }
            }
            return r;
          },
          [&](const SetLastSeenOp& op) {
            mu_.assertHeld();
            auto it = findActing(op.username, op.uid);
            if (it == accounts_.end()) {
              // Refused, so the archive does not record it either.
              return failure(ErrorCode::kNoSuchUser, "no such user " + op.username);
            }
            it->second.account.lastSeenMillis = op.atMillis;
            return ApplyResult{};
          },
          [&](const NoOp&) { return ApplyResult{}; },
          [&](const EndSessionsOp& op) {
            mu_.assertHeld();
            auto it = findActing(op.username, op.uid);
            if (it == accounts_.end()) {
              return failure(ErrorCode::kNoSuchUser, "no such user " + op.username);
            }
            ++it->second.account.tokenGeneration;
            it->second.account.lastSeenMillis = op.atMillis;
            return ApplyResult{};
          },
      },
      entry.op);
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

uint64_t ChatState::pendingTotal() const {
  MutexLock lock(mu_);
  return waiting_.size();
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
  recent_.clear();
  applied_ = {};
}

void ChatState::loadAccount(const Account& account) {
  MutexLock lock(mu_);
  std::string key = nameKey(account.name);
  accounts_[key].account = account;
  keyByUid_[account.uid] = key;
}

void ChatState::loadWaiting(uint64_t id, const std::string& sender, uint64_t recipientUid,
                            uint32_t bodyBytes) {
  MutexLock lock(mu_);
  AccountState* recipient = accountByUid(recipientUid);
  if (recipient == nullptr) {
    return;  // never written so (a deletion takes its messages), but disk data is not trusted
  }
  if (recipient->waiting.insert(id).second) {
    recipient->waitingBytes += bodyBytes;
  }
  waiting_[id] = Waiting{sender, recipientUid, bodyBytes};
}

void ChatState::loadRequest(uint64_t senderUid, uint64_t requestId, uint64_t messageId,
                            uint64_t recipientUid) {
  MutexLock lock(mu_);
  recent_.add(senderUid, requestId, messageId, recipientUid);
}

void ChatState::setApplied(AppliedPosition position) {
  MutexLock lock(mu_);
  applied_ = position;
}

}  // namespace chat::storage
