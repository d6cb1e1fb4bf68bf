// FailoverRunner: chat-bench's failover mode. It starts the nodes of a cluster file as child
// processes, keeps one sender and one recipient (cluster clients) chatting with one send in
// flight, and SIGKILLs the leader again and again. For each kill it measures the time to the
// first acknowledged send that the client made after the kill, restarts the killed node and
// waits for it to catch up. At the end every acknowledged message must have arrived once.
// Thread contract: run from one thread.
#ifndef CHAT_TOOLS_BENCH_FAILOVER_RUNNER_H_
#define CHAT_TOOLS_BENCH_FAILOVER_RUNNER_H_

#include <string>
#include <vector>

#include "bench_options.h"
#include "chat/common/status.h"

namespace chat::bench {

struct FailoverResult {
  std::vector<double> millis;  // one per kill, in kill order
  int64_t acknowledged = 0;
  int64_t received = 0;
  int64_t missing = 0;
  int64_t duplicates = 0;
  bool ok() const { return missing == 0 && duplicates == 0; }
};

Result<FailoverResult> runFailover(const BenchOptions& options);
std::string formatFailover(const BenchOptions& options, const FailoverResult& result);

}  // namespace chat::bench

#endif  // CHAT_TOOLS_BENCH_FAILOVER_RUNNER_H_
