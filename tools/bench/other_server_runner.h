// OtherServerRunner: chat-bench's load against the servers users would compare chat-node
// with, measured the same way (docs/benchmarks.md): an IRC server (each pair is two nicks,
// the sender PRIVMSGs the recipient) and Redis pub/sub (the recipient SUBSCRIBEs to a
// channel of its own, the sender PUBLISHes to it). Same pairs, bodies ("<seq> <send time>"
// padded), windows, rates, threads and exactly-once check as against chat-node. Neither
// server acknowledges a delivery to the sender as chat-node does, so the window here counts
// messages sent and not yet received (never looser than chat-node's).
// Thread contract: run from one thread; it starts and joins its own workers.
#ifndef CHAT_TOOLS_BENCH_OTHER_SERVER_RUNNER_H_
#define CHAT_TOOLS_BENCH_OTHER_SERVER_RUNNER_H_

#include "bench_options.h"
#include "bench_runner.h"
#include "room_runner.h"

namespace chat::bench {

// REQUIRES: options.protocol is kIrc or kRedis.
Result<BenchResult> runOtherServerBench(const BenchOptions& options);
// --room N against them: an IRC channel all N members JOIN (the server does not echo a
// PRIVMSG to its sender), or a Redis channel all N SUBSCRIBE to (senders PUBLISH on a second
// connection; their own copy is not counted). Rate mode only: neither server acknowledges
// a message, so there is no window to keep.
// REQUIRES: options.protocol is kIrc or kRedis, options.rate > 0.
Result<RoomBenchResult> runOtherServerRoomBench(const BenchOptions& options);

}  // namespace chat::bench

#endif  // CHAT_TOOLS_BENCH_OTHER_SERVER_RUNNER_H_
