// ChatState: the chat state machine in memory, and the one place where the rules of applying
// an operation record live. Applied from the log in commit order on every node, it holds
// what a reply needs at once: accounts and their password hashes, the waiting set (which
// messages wait for whom, without their bodies), and the request ids of recent sends (so a
// retried send is stored once). Message bodies and history live in the archive behind it
// (message_archive.h), which records what this state decided.
//
// Thread contract: apply() and the load functions from one thread at a time (the commit
// thread); the read functions from any thread, concurrently with apply() (one mutex).
#ifndef CHAT_STORAGE_CHAT_STATE_H_
#define CHAT_STORAGE_CHAT_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/common/mutex.h"
#include "chat/storage/message_store.h"
#include "chat/storage/recent_requests.h"

namespace chat::storage {

// Retried sends are recognised while their first message is among the newest this many log
// entries (the client retries within its 30 s request timeout, far inside this window).
inline constexpr uint64_t kRequestWindow = 1 << 18;
// At most this many messages wait for one recipient; a send beyond it is refused
// (kRecipientFull) until the recipient reads some. One account cannot fill another's disk
// and the memory its next login takes. A rule of the state machine, so the same on every
// node (never a setting).
inline constexpr size_t kMaxWaitingPerRecipient = 10000;
// And at most this many body bytes (a full count of the largest bodies would be 40 MB).
inline constexpr uint64_t kMaxWaitingBytesPerRecipient = 16 * 1024 * 1024;

class ChatState {
 public:
  explicit ChatState(uint64_t requestWindow = kRequestWindow) : recent_(requestWindow) {}

  // Applies `entries` in order; one result each, the same on every node for the same log.
  // REQUIRES: entries[0].index == applied().index + 1 and indices are dense.
  std::vector<ApplyResult> apply(std::span<const Command> entries) EXCLUDES(mu_);

  AppliedPosition applied() const EXCLUDES(mu_);
  std::optional<Account> findAccount(std::string_view username) const EXCLUDES(mu_);
  // As MessageStore::listAccounts.
  AccountPage listAccounts(std::string_view pattern, uint32_t offset, uint32_t limit) const
      EXCLUDES(mu_);
  uint32_t pendingCount(std::string_view username) const EXCLUDES(mu_);
  // The ids of the messages waiting for `username`, oldest first, at most `limit` (0: all),
  // and no more than fit in `maxBytes` of body (the first always counts, whatever its size).
  std::vector<uint64_t> pendingIds(std::string_view username, uint32_t limit,
                                   uint64_t maxBytes = UINT64_MAX) const EXCLUDES(mu_);
  uint64_t pendingTotal() const EXCLUDES(mu_);
  // A digest of the whole state (FNV-1a over a canonical listing): equal on nodes that
  // applied the same log to the same index.
  uint64_t digest() const EXCLUDES(mu_);

  // Loading the state an archive holds (MessageArchive::loadInto), after clear().
  void clear() EXCLUDES(mu_);
  void loadAccount(const Account& account) EXCLUDES(mu_);
  // A message that waits for its recipient. REQUIRES: the recipient's account is loaded.
  void loadWaiting(uint64_t id, const std::string& sender, uint64_t recipientUid,
                   uint32_t bodyBytes) EXCLUDES(mu_);
  // A recent send's request id. REQUIRES: loaded in increasing message id order.
  void loadRequest(uint64_t senderUid, uint64_t requestId, uint64_t messageId,
                   uint64_t recipientUid) EXCLUDES(mu_);
  void setApplied(AppliedPosition position) EXCLUDES(mu_);

 private:
  struct AccountState {
    Account account;
    std::set<uint64_t> waiting;  // ids of the messages waiting for it
    uint64_t waitingBytes = 0;   // their bodies' bytes
  };
  struct Waiting {
    std::string sender;  // display name, kept: the sender's account may be gone
    uint64_t recipientUid = 0;
    uint32_t bodyBytes = 0;
  };
  using AccountIt = std::map<std::string, AccountState>::iterator;

  ApplyResult applyOne(const Command& entry) REQUIRES(mu_);
  // The account named `name`, if it is the account `uid` (0: whichever has the name).
  AccountIt findActing(const std::string& name, uint64_t uid) REQUIRES(mu_);
  AccountState* accountByUid(uint64_t uid) REQUIRES(mu_);

  mutable Mutex mu_;
  std::map<std::string, AccountState> accounts_ GUARDED_BY(mu_);  // by name key, in list order
  std::unordered_map<uint64_t, std::string> keyByUid_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, Waiting> waiting_ GUARDED_BY(mu_);  // by message id
  RecentRequests recent_ GUARDED_BY(mu_);
  AppliedPosition applied_ GUARDED_BY(mu_);
};

}  // namespace chat::storage

#endif  // CHAT_STORAGE_CHAT_STATE_H_
