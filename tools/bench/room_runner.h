// RoomRunner: chat-bench --room N. One room of N members, all online; the first `senders` of
// them send (at --rate in total, or --messages each with --window in flight). Every other
// member must receive every acknowledged message exactly once; the result is the fan-out
// (deliveries a second) and two latencies: from a send to each member's push, and from a send
// to the last member's push (the time the whole room has it).
// Thread contract: run from one thread; it starts and joins its own workers.
#ifndef CHAT_TOOLS_BENCH_ROOM_RUNNER_H_
#define CHAT_TOOLS_BENCH_ROOM_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bench_options.h"
#include "chat/common/status.h"

namespace chat::bench {

struct RoomBenchResult {
  int members = 0;
  int senders = 0;
  int64_t messages = 0;    // room messages the cluster acknowledged
  int64_t deliveries = 0;  // distinct (message, member) copies received
  int64_t missing = 0;     // copies of acknowledged messages never received
  int64_t duplicates = 0;  // copies received more than once
  int64_t sendErrors = 0;
  double seconds = 0;      // first send to last receive
  double deliveriesPerSecond = 0;
  double p50Micros = 0;  // send to one member's push
  double p99Micros = 0;
  double lastP50Micros = 0;  // send to the last member's push
  double lastP99Micros = 0;
  double lastMaxMicros = 0;
  bool ok() const { return missing == 0 && duplicates == 0 && sendErrors == 0; }
};

Result<RoomBenchResult> runRoomBench(const BenchOptions& options);
// Fills in what follows from the counts (missing) and from the latencies in ns, unsorted:
// per delivery, and per message to its last member (messages every member got).
// REQUIRES: members, messages, deliveries and seconds are set.
void finishRoomResult(RoomBenchResult& r, std::vector<int64_t> latencies,
                      std::vector<int64_t> lastLatencies);
std::string formatRoomResult(const BenchOptions& options, const RoomBenchResult& result);
std::string formatRoomResultJson(const BenchOptions& options, const RoomBenchResult& result);

}  // namespace chat::bench

#endif  // CHAT_TOOLS_BENCH_ROOM_RUNNER_H_
