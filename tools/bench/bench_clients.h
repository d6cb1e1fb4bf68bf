// What chat-bench's loads share to set up: cluster clients made from the options, waiting
// for a batch of replies, and accounts created and logged in, each on a client of its own.
// Thread contract: call from one thread.
#ifndef CHAT_TOOLS_BENCH_BENCH_CLIENTS_H_
#define CHAT_TOOLS_BENCH_BENCH_CLIENTS_H_

#include <memory>
#include <string>
#include <vector>

#include "bench_options.h"
#include "chat/client/cluster_client.h"
#include "chat/common/status.h"

namespace chat::bench {

std::unique_ptr<client::ClusterClient> makeClient(const BenchOptions& o);
// Waits for the responses to `ids` on `c`; every one must be OK (or the `allowed` code).
Status awaitAll(client::ClusterClient& c, std::vector<uint64_t> ids,
                protocol::ErrorCode allowed = protocol::ErrorCode::kOk);
// Creates the accounts (existing ones are fine) and logs each name in on a cluster client
// of its own. Fails fast, with the reason, when no node can be reached at all.
Result<std::vector<std::unique_ptr<client::ClusterClient>>> loginClients(
    const BenchOptions& o, const std::vector<std::string>& names);

}  // namespace chat::bench

#endif  // CHAT_TOOLS_BENCH_BENCH_CLIENTS_H_
