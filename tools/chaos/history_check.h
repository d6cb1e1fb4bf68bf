// The history check of chat-chaos: after the faults, every message a sender was told is
// stored (acknowledged) must have reached its recipient exactly once, in send order for each
// sender-recipient pair, and nothing may arrive that was never sent. Messages that were sent
// but never acknowledged (the sender gave up on them) may or may not arrive; they are
// counted on their own. Pure: the runner collects the records, this judges them.
// Thread contract: pure functions.
#ifndef CHAT_TOOLS_CHAOS_HISTORY_CHECK_H_
#define CHAT_TOOLS_CHAOS_HISTORY_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::chaos {

// One message a sender submitted. `seq` counts from 1 per (sender, recipient) pair in the
// order the sends were submitted.
struct SentMessage {
  uint32_t sender = 0;
  uint32_t recipient = 0;
  uint64_t seq = 0;
  bool acked = false;      // the cluster said it is stored
  uint64_t messageId = 0;  // from the acknowledgement
};

// One message a recipient's client handed to the application (pushed or delivered).
struct ReceivedMessage {
  uint32_t recipient = 0;
  uint32_t sender = 0;
  uint64_t seq = 0;
  uint64_t messageId = 0;
};

struct HistoryReport {
  int64_t sent = 0;
  int64_t acked = 0;
  int64_t unacked = 0;           // sent, never acknowledged
  int64_t delivered = 0;         // distinct messages received (acknowledged or not)
  int64_t unackedDelivered = 0;  // of the unacknowledged, those that arrived anyway (allowed)
  int64_t lost = 0;              // acknowledged, never received
  int64_t duplicated = 0;        // received more than once (another copy, or another id)
  int64_t reordered = 0;         // acknowledged messages of a pair out of send order
  int64_t phantom = 0;           // received, never sent (or to the wrong recipient)
  std::vector<std::string> examples;  // the first few violations, for people
  bool ok() const { return lost == 0 && duplicated == 0 && reordered == 0 && phantom == 0; }
};

HistoryReport checkHistory(const std::vector<SentMessage>& sent,
                           const std::vector<ReceivedMessage>& received);

// The body chat-chaos sends: "chaos <sender> <recipient> <seq>", and its parser.
std::string chaosBody(uint32_t sender, uint32_t recipient, uint64_t seq);
std::optional<ReceivedMessage> parseChaosBody(const std::string& body);

// Room messages: "chaos-room <sender> <seq>" (seq counts from 1 per sender). A room message
// is a send to every other member: `expandRoomSends` turns each into one SentMessage per
// member (recipient = the member), so checkHistory judges every member's copy on its own
// (lost, doubled, out of the room's order). A parsed room body has recipient 0: the caller
// sets the member that received it.
std::string chaosRoomBody(uint32_t sender, uint64_t seq);
std::optional<ReceivedMessage> parseChaosRoomBody(const std::string& body);
std::vector<SentMessage> expandRoomSends(const std::vector<SentMessage>& roomSends,
                                         uint32_t members);

}  // namespace chat::chaos

#endif  // CHAT_TOOLS_CHAOS_HISTORY_CHECK_H_
