// BenchRunner: drives chat-bench's load over real sockets with the cluster client library
// (so it follows the leader and rides through failovers). Pairs (sender i -> recipient i)
// are spread over a few client threads, each multiplexing its clients with epoll. Recipients read and ack every message; every (sender, sequence)
// is checked off once, so a missing or doubled message fails the run.
// Thread contract: run() from one thread; it starts and joins its own workers.
#ifndef CHAT_TOOLS_BENCH_BENCH_RUNNER_H_
#define CHAT_TOOLS_BENCH_BENCH_RUNNER_H_

#include <cstdint>
#include <string>

#include "bench_options.h"
#include "chat/common/status.h"

namespace chat::bench {

struct BenchResult {
  int64_t sent = 0;        // sends the node acknowledged
  int64_t received = 0;    // distinct messages the recipients read
  int64_t missing = 0;     // acknowledged but never received
  int64_t duplicates = 0;  // received more than once
  int64_t sendErrors = 0;  // sends answered with an error
  int64_t reconnects = 0;  // sessions resumed on another connection (failovers seen)
  double seconds = 0;      // first send to last receive
  double messagesPerSecond = 0;
  double p50Micros = 0;
  double p99Micros = 0;
  double p999Micros = 0;
  double maxMicros = 0;
  int idleConnections = 0;
  uint64_t nodeResidentBytes = 0;
  uint32_t nodeConnections = 0;
  bool ok() const { return missing == 0 && duplicates == 0 && sendErrors == 0; }
};

Result<BenchResult> runBench(const BenchOptions& options);
// Connects to the first server again and again until it answers a status request, up to
// options.awaitSeconds; returns the milliseconds that took. Errors: kTimeout.
Result<int64_t> awaitNode(const BenchOptions& options);
std::string formatResult(const BenchOptions& options, const BenchResult& result);
std::string formatResultJson(const BenchOptions& options, const BenchResult& result);

}  // namespace chat::bench

#endif  // CHAT_TOOLS_BENCH_BENCH_RUNNER_H_
