// RecentRequests: the request ids of the most recent messages, so that a send retried with
// the same request id (after a reconnect or a failover) is stored once. The window is
// defined by the log: a request is remembered while its message id is within `window` of the
// index being applied, so every node, and a node rebuilding the set from its database after a
// restart (every request whose message id is within the window of its applied index), gives
// the same answers. Kept in memory instead of a unique index because an index
// insert per message doubled the pages each group commit writes (docs/architecture.md).
// Thread contract: not thread-safe; owned by the store's apply thread.
#ifndef CHAT_STORAGE_RECENT_REQUESTS_H_
#define CHAT_STORAGE_RECENT_REQUESTS_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

namespace chat::storage {

class RecentRequests {
 public:
  // Buckets for the whole window are made at once: no rehash while traffic flows, nor while
  // a restart loads a quarter of a million requests.
  explicit RecentRequests(uint64_t window) : window_(window) {
    ids_.reserve(static_cast<size_t>(std::min<uint64_t>(window, kMaxReserved)));
  }

  // The message id stored for (sender, request) if it is within the window of `atIndex` (the
  // log index being applied). The answer depends only on the log, never on when entries were
  // forgotten, so a node that rebuilt the set after a restart answers as one that did not.
  std::optional<uint64_t> find(uint64_t senderUid, uint64_t requestId, uint64_t atIndex) const {
    auto it = ids_.find(Key{senderUid, requestId});
    if (it == ids_.end() || it->second.message + window_ <= atIndex) {
      return std::nullopt;
    }
    return it->second.message;
  }
  // Remembers a stored message; forgets those that fell out of the window.
  // REQUIRES: message ids are added in increasing order.
  void add(uint64_t senderUid, uint64_t requestId, uint64_t messageId, uint64_t recipientUid) {
    Key key{senderUid, requestId};
    ids_[key] = Stored{messageId, recipientUid};
    order_.push_back({messageId, key});
    while (!order_.empty() && order_.front().first + window_ <= messageId) {
      auto it = ids_.find(order_.front().second);
      if (it != ids_.end() && it->second.message == order_.front().first) {
        ids_.erase(it);
      }
      order_.pop_front();
    }
  }
  // Forgets the messages addressed to `recipientUid` (its account was deleted, and its
  // messages with it): a store rebuilt from the database after a restart no longer has them
  // either. Scans the window; deletions are rare.
  void forgetRecipient(uint64_t recipientUid) {
    std::erase_if(ids_, [&](const auto& e) { return e.second.recipient == recipientUid; });
  }
  // Calls fn(senderUid, requestId, messageId) for every request still answered at `atIndex`,
  // in no particular order.
  template <typename Fn>
  void forEachLive(uint64_t atIndex, Fn&& fn) const {
    for (const auto& [key, stored] : ids_) {
      if (stored.message + window_ > atIndex) {
        fn(key.sender, key.request, stored.message);
      }
    }
  }
  void clear() {
    ids_.clear();  // keeps the buckets
    order_.clear();
  }
  uint64_t window() const { return window_; }
  size_t size() const { return ids_.size(); }

 private:
  struct Key {
    uint64_t sender;
    uint64_t request;
    bool operator==(const Key&) const = default;
  };
  struct Stored {
    uint64_t message;
    uint64_t recipient;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()(k.sender * 0x9E3779B97F4A7C15ULL ^ k.request);
    }
  };
  static constexpr uint64_t kMaxReserved = 1 << 18;
  const uint64_t window_;
  std::unordered_map<Key, Stored, KeyHash> ids_;
  std::deque<std::pair<uint64_t, Key>> order_;
};

}  // namespace chat::storage

#endif  // CHAT_STORAGE_RECENT_REQUESTS_H_
