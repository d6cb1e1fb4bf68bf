// CommitLog: where the chat service sends operation records to be made durable. The single
// node commits locally in groups (LocalCommitLog); the replicated cluster commits on a
// majority (issue #3) behind the same interface, so the service does not change.
//
// ApplyObserver sees every applied record in log order, whoever proposed it; the service
// uses it to push messages to online recipients and delivery notices to senders.
// Thread contract: propose() is thread-safe; callbacks run on the commit thread, in log order.
#ifndef CHAT_SERVICE_COMMIT_LOG_H_
#define CHAT_SERVICE_COMMIT_LOG_H_

#include <functional>

#include "chat/common/status.h"
#include "chat/storage/operation.h"

namespace chat::service {

class ApplyObserver {
 public:
  virtual ~ApplyObserver() = default;
  // Called on the commit thread after the record is durable and applied, before the
  // proposer's callback. Must not block.
  virtual void onApplied(const storage::Command& entry, const storage::ApplyResult& result) = 0;
};

// How soon a record must be committed. Sends are kUrgent: a client waits for each. Delivery
// marks and last-seen times are kLazy: losing one costs only a repeated hand-over, so they
// ride along with the next urgent commit, or go alone after a short delay, instead of
// costing an fsync each.
enum class Urgency { kUrgent, kLazy };

// Why a proposal whose gate was closed failed.
inline constexpr const char* kGateClosed =
    "an earlier operation of this client was not stored, so this one was withdrawn too";

class CommitLog {
 public:
  using Done = std::function<void(Result<storage::ApplyResult>)>;
  // Asked on the commit thread just before the record is appended: false fails the proposal
  // with kUnavailable and appends nothing. Proposals are queued, so a failure reaches its
  // proposer after later proposals of the same client are already waiting; the gate lets
  // the proposer withdraw those (the service keeps a connection's sends in order with it).
  // Must not block.
  using Gate = std::function<bool()>;
  virtual ~CommitLog() = default;
  // Appends `op`; `done` runs once it is durable and applied (with its result), or with an
  // error (kUnavailable: not committed, nothing changed). `done` must not block.
  virtual void propose(storage::Operation op, Done done, Urgency urgency = Urgency::kUrgent,
                       Gate gate = {}) = 0;
  // The observer for applied records. REQUIRES: set before the first propose; the observer
  // outlives the log.
  virtual void setObserver(ApplyObserver* observer) = 0;
  // Log position of the last applied record, for status.
  virtual uint64_t appliedIndex() const = 0;
  virtual uint64_t epoch() const = 0;
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_COMMIT_LOG_H_
