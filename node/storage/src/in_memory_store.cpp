#include "chat/storage/in_memory_store.h"

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

}  // namespace

Result<std::vector<ApplyResult>> InMemoryMessageStore::apply(std::span<const LogEntry> entries) {
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

ApplyResult InMemoryMessageStore::applyOne(const LogEntry& entry) {
  return std::visit(
      Overloaded{
          [&](const CreateAccountOp& op) {
            mu_.assertHeld();
            std::string key = nameKey(op.username);
            if (accounts_.contains(key)) {
              return failure(ErrorCode::kUsernameTaken,
                             "username " + op.username + " is taken; pick another");
            }
            accounts_[key] =
                Account{entry.index, op.username, op.passwordHash, op.createdAtMillis, 0};
            ApplyResult r;
            r.id = entry.index;
            return r;
          },
          [&](const DeleteAccountOp& op) {
            mu_.assertHeld();
            auto it = accounts_.find(nameKey(op.username));
            if (it == accounts_.end()) {
              return failure(ErrorCode::kNoSuchUser, "no such user " + op.username);
            }
            uint64_t uid = it->second.uid;
            ApplyResult r;
            for (auto m = messages_.begin(); m != messages_.end();) {
              if (m->second.recipientUid == uid) {
                if (!m->second.message.delivered) {
                  ++r.count;
                }
                m = messages_.erase(m);
              } else {
                ++m;
              }
            }
            accounts_.erase(it);
            return r;
          },
          [&](const StoreMessageOp& op) {
            mu_.assertHeld();
            auto sender = accounts_.find(nameKey(op.sender));
            if (sender == accounts_.end()) {
              return failure(ErrorCode::kNoSuchUser,
                             "the sending account " + op.sender + " no longer exists");
            }
            auto recipient = accounts_.find(nameKey(op.recipient));
            if (recipient == accounts_.end()) {
              return failure(ErrorCode::kNoSuchUser, "no such user " + op.recipient);
            }
            ApplyResult r;
            if (op.requestId != 0) {
              for (const auto& [id, m] : messages_) {
                if (m.senderUid == sender->second.uid && m.requestId == op.requestId) {
                  r.id = id;
                  r.duplicate = true;
                  return r;
                }
              }
            }
            StoredMessage m;
            m.message =
                protocol::ChatMessage{entry.index, sender->second.name, recipient->second.name,
                                      op.body,     op.sentAtMillis,     false};
            m.senderUid = sender->second.uid;
            m.recipientUid = recipient->second.uid;
            m.requestId = op.requestId;
            messages_[entry.index] = std::move(m);
            r.id = entry.index;
            return r;
          },
          [&](const MarkDeliveredOp& op) {
            mu_.assertHeld();
            ApplyResult r;
            auto recipient = accounts_.find(nameKey(op.recipient));
            if (recipient == accounts_.end()) {
              return failure(ErrorCode::kNoSuchUser, "no such user " + op.recipient);
            }
            for (uint64_t id : op.ids) {
              auto m = messages_.find(id);
              if (m != messages_.end() && m->second.recipientUid == recipient->second.uid &&
                  !m->second.message.delivered) {
                m->second.message.delivered = true;
                r.delivered.emplace_back(id, m->second.message.sender);
              }
            }
            return r;
          },
          [&](const SetLastSeenOp& op) {
            mu_.assertHeld();
            auto it = accounts_.find(nameKey(op.username));
            if (it != accounts_.end()) {
              it->second.lastSeenMillis = op.atMillis;
            }
            return ApplyResult{};
          },
          [&](const NoOp&) { return ApplyResult{}; },
      },
      entry.op);
}

Result<AppliedPosition> InMemoryMessageStore::appliedPosition() {
  MutexLock lock(mu_);
  return applied_;
}

Result<std::optional<Account>> InMemoryMessageStore::findAccount(std::string_view username) {
  MutexLock lock(mu_);
  auto it = accounts_.find(nameKey(username));
  if (it == accounts_.end()) {
    return std::optional<Account>();
  }
  return std::optional<Account>(it->second);
}

Result<AccountPage> InMemoryMessageStore::listAccounts(std::string_view pattern, uint32_t offset,
                                                       uint32_t limit) {
  MutexLock lock(mu_);
  AccountPage page;
  std::string p = nameKey(pattern);
  for (const auto& [key, account] : accounts_) {  // map order = name key order
    if (!p.empty() && !protocol::wildcardMatch(p, key)) {
      continue;
    }
    if (page.total >= offset && page.accounts.size() < limit) {
      page.accounts.push_back(account);
    }
    ++page.total;
  }
  return page;
}

Result<std::vector<protocol::ChatMessage>> InMemoryMessageStore::pendingMessages(
    std::string_view username, uint32_t limit) {
  MutexLock lock(mu_);
  std::vector<protocol::ChatMessage> out;
  auto it = accounts_.find(nameKey(username));
  if (it == accounts_.end()) {
    return out;
  }
  for (const auto& [id, m] : messages_) {
    if (m.recipientUid == it->second.uid && !m.message.delivered) {
      out.push_back(m.message);
      if (limit != 0 && out.size() >= limit) {
        break;
      }
    }
  }
  return out;
}

Result<uint32_t> InMemoryMessageStore::pendingCount(std::string_view username) {
  auto pending = pendingMessages(username, 0);
  if (!pending) {
    return pending.error();
  }
  return static_cast<uint32_t>(pending->size());
}

Result<uint64_t> InMemoryMessageStore::pendingTotal() {
  MutexLock lock(mu_);
  uint64_t n = 0;
  for (const auto& [id, m] : messages_) {
    n += m.message.delivered ? 0 : 1;
  }
  return n;
}

Result<HistoryPage> InMemoryMessageStore::history(std::string_view username, std::string_view peer,
                                                  uint64_t beforeId, uint32_t limit) {
  MutexLock lock(mu_);
  HistoryPage page;
  auto me = accounts_.find(nameKey(username));
  if (me == accounts_.end()) {
    return page;
  }
  std::string peerKey = nameKey(peer);
  for (auto it = messages_.rbegin(); it != messages_.rend(); ++it) {
    const auto& m = it->second;
    if (beforeId != 0 && it->first >= beforeId) {
      continue;
    }
    bool mine = (m.senderUid == me->second.uid && nameKey(m.message.recipient) == peerKey) ||
                (m.recipientUid == me->second.uid && nameKey(m.message.sender) == peerKey);
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

Result<std::vector<protocol::ChatMessage>> InMemoryMessageStore::messagesAfter(uint64_t afterId,
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
