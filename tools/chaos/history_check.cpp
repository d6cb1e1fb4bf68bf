#include "history_check.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>

namespace chat::chaos {

namespace {

using Key = std::tuple<uint32_t, uint32_t, uint64_t>;  // sender, recipient, seq

void example(HistoryReport& r, std::string text) {
  if (r.examples.size() < 10) {
    r.examples.push_back(std::move(text));
  }
}

std::string name(const Key& k) {
  return "user " + std::to_string(std::get<0>(k)) + " -> user " + std::to_string(std::get<1>(k)) +
         " #" + std::to_string(std::get<2>(k));
}

}  // namespace

std::string chaosBody(uint32_t sender, uint32_t recipient, uint64_t seq) {
  return "chaos " + std::to_string(sender) + " " + std::to_string(recipient) + " " +
         std::to_string(seq);
}

std::string chaosRoomBody(uint32_t sender, uint64_t seq) {
  return "chaos-room " + std::to_string(sender) + " " + std::to_string(seq);
}

std::optional<ReceivedMessage> parseChaosRoomBody(const std::string& body) {
  constexpr std::string_view kPrefix = "chaos-room ";
  if (body.rfind(kPrefix, 0) != 0) {
    return std::nullopt;
  }
  ReceivedMessage m;
  const char* p = body.data() + kPrefix.size();
  const char* end = body.data() + body.size();
  auto a = std::from_chars(p, end, m.sender);
  if (a.ec != std::errc() || a.ptr == end || *a.ptr != ' ') {
    return std::nullopt;
  }
  auto b = std::from_chars(a.ptr + 1, end, m.seq);
  if (b.ec != std::errc() || b.ptr != end) {
    return std::nullopt;
  }
  return m;
}

std::vector<SentMessage> expandRoomSends(const std::vector<SentMessage>& roomSends,
                                         uint32_t members) {
  std::vector<SentMessage> out;
  out.reserve(roomSends.size() * members);
  for (const auto& s : roomSends) {
    for (uint32_t member = 0; member < members; ++member) {
      if (member != s.sender) {
        SentMessage copy = s;
        copy.recipient = member;
        out.push_back(copy);
      }
    }
  }
  return out;
}

std::optional<ReceivedMessage> parseChaosBody(const std::string& body) {
  if (body.rfind("chaos ", 0) != 0) {
    return std::nullopt;
  }
  ReceivedMessage m;
  const char* p = body.data() + 6;
  const char* end = body.data() + body.size();
  auto a = std::from_chars(p, end, m.sender);
  if (a.ec != std::errc() || a.ptr == end || *a.ptr != ' ') {
    return std::nullopt;
  }
  auto b = std::from_chars(a.ptr + 1, end, m.recipient);
  if (b.ec != std::errc() || b.ptr == end || *b.ptr != ' ') {
    return std::nullopt;
  }
  auto c = std::from_chars(b.ptr + 1, end, m.seq);
  if (c.ec != std::errc() || c.ptr != end) {
    return std::nullopt;
  }
  return m;
}

HistoryReport checkHistory(const std::vector<SentMessage>& sent,
                           const std::vector<ReceivedMessage>& received) {
  HistoryReport r;
  std::map<Key, const SentMessage*> bySend;
  for (const auto& s : sent) {
    bySend[Key{s.sender, s.recipient, s.seq}] = &s;
    ++r.sent;
    s.acked ? ++r.acked : ++r.unacked;
  }
  // Every copy received, by message.
  std::map<Key, std::vector<uint64_t>> copies;
  for (const auto& m : received) {
    Key k{m.sender, m.recipient, m.seq};
    if (bySend.find(k) == bySend.end()) {
      ++r.phantom;
      example(r, "received but never sent: " + name(k) + " (id " + std::to_string(m.messageId) +
                     ")");
      continue;
    }
    copies[k].push_back(m.messageId);
  }
  for (const auto& [k, ids] : copies) {
    ++r.delivered;
    const SentMessage* s = bySend[k];
    if (!s->acked) {
      ++r.unackedDelivered;
    }
    if (ids.size() > 1) {
      r.duplicated += static_cast<int64_t>(ids.size()) - 1;
      std::string list;
      for (uint64_t id : ids) {
        list += (list.empty() ? "" : ", ") + std::to_string(id);
      }
      example(r, "received " + std::to_string(ids.size()) + " times: " + name(k) + " (ids " +
                     list + ")");
    } else if (s->acked && s->messageId != 0 && ids.front() != s->messageId) {
      // Stored under another id than the one acknowledged: a second copy was stored.
      ++r.duplicated;
      example(r, "acknowledged as id " + std::to_string(s->messageId) + " but received as id " +
                     std::to_string(ids.front()) + ": " + name(k));
    }
  }
  // Lost, and send order per pair: acknowledged messages sorted by seq must have increasing
  // server ids as received.
  std::map<std::pair<uint32_t, uint32_t>, std::vector<std::pair<uint64_t, uint64_t>>> pairs;
  for (const auto& s : sent) {
    if (!s.acked) {
      continue;
    }
    Key k{s.sender, s.recipient, s.seq};
    auto it = copies.find(k);
    if (it == copies.end()) {
      ++r.lost;
      example(r, "acknowledged (id " + std::to_string(s.messageId) + ") but never received: " +
                     name(k));
      continue;
    }
    pairs[{s.sender, s.recipient}].emplace_back(s.seq, it->second.front());
  }
  for (auto& [pair, list] : pairs) {
    std::sort(list.begin(), list.end());
    uint64_t highest = 0;
    uint64_t highestSeq = 0;
    for (const auto& [seq, id] : list) {
      if (id < highest) {
        ++r.reordered;
        example(r, "out of send order: " + name(Key{pair.first, pair.second, seq}) + " has id " +
                       std::to_string(id) + ", below the id " + std::to_string(highest) +
                       " of the earlier #" + std::to_string(highestSeq));
      }
      if (id > highest) {
        highest = id;
        highestSeq = seq;
      }
    }
  }
  return r;
}

}  // namespace chat::chaos
