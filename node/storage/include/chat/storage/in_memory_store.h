// InMemoryMessageStore: a MessageStore kept in maps, with the same semantics as the SQLite
// store. Shipped (like leveldb's memenv) for unit tests and the replication simulation.
// Thread contract: all methods are thread-safe (one internal mutex).
#ifndef CHAT_STORAGE_IN_MEMORY_STORE_H_
#define CHAT_STORAGE_IN_MEMORY_STORE_H_

#include <map>
#include <string>

#include "chat/common/mutex.h"
#include "chat/storage/message_store.h"

namespace chat::storage {

class InMemoryMessageStore final : public MessageStore {
 public:
  Result<std::vector<ApplyResult>> apply(std::span<const LogEntry> entries) override EXCLUDES(mu_);
  Result<AppliedPosition> appliedPosition() override EXCLUDES(mu_);
  Result<std::optional<Account>> findAccount(std::string_view username) override EXCLUDES(mu_);
  Result<AccountPage> listAccounts(std::string_view pattern, uint32_t offset,
                                   uint32_t limit) override EXCLUDES(mu_);
  Result<std::vector<protocol::ChatMessage>> pendingMessages(std::string_view username,
                                                             uint32_t limit) override EXCLUDES(mu_);
  Result<uint32_t> pendingCount(std::string_view username) override EXCLUDES(mu_);
  Result<uint64_t> pendingTotal() override EXCLUDES(mu_);
  Result<HistoryPage> history(std::string_view username, std::string_view peer, uint64_t beforeId,
                              uint32_t limit) override EXCLUDES(mu_);
  Result<std::vector<protocol::ChatMessage>> messagesAfter(uint64_t afterId,
                                                           uint32_t limit) override EXCLUDES(mu_);

 private:
  struct StoredMessage {
    protocol::ChatMessage message;
    uint64_t senderUid = 0;
    uint64_t recipientUid = 0;
    uint64_t requestId = 0;
  };
  ApplyResult applyOne(const LogEntry& entry) REQUIRES(mu_);

  Mutex mu_;
  std::map<std::string, Account> accounts_ GUARDED_BY(mu_);  // by name key
  std::map<uint64_t, StoredMessage> messages_ GUARDED_BY(mu_);
  AppliedPosition applied_ GUARDED_BY(mu_);
};

}  // namespace chat::storage

#endif  // CHAT_STORAGE_IN_MEMORY_STORE_H_
