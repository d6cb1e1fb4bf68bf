#include "bench_clients.h"

#include <algorithm>

#include "chat/client/connection.h"

namespace chat::bench {

using client::ClusterClient;
using client::Connection;
using client::Millis;
using namespace std::chrono_literals;

std::unique_ptr<ClusterClient> makeClient(const BenchOptions& o) {
  client::ClusterClientOptions c;
  c.servers = o.servers;
  c.connectTimeout = Millis(o.connectTimeoutMs);
  c.requestTimeout = 60000ms;
  c.tls = o.tls;
  return std::make_unique<ClusterClient>(c);
}

Status awaitAll(ClusterClient& c, std::vector<uint64_t> ids, protocol::ErrorCode allowed) {
  std::sort(ids.begin(), ids.end());
  size_t answered = 0;
  while (answered < ids.size()) {
    auto e = c.waitEvent(60000ms);
    if (!e) {
      return Status::timeout("the cluster stopped answering during set-up");
    }
    auto* r = std::get_if<protocol::Response>(&*e);
    if (r == nullptr || !std::binary_search(ids.begin(), ids.end(), r->requestId)) {
      continue;
    }
    ++answered;
    if (!r->isOk() && r->code != allowed) {
      return Status::aborted(std::string(protocol::opcodeName(r->opcode)) +
                             " failed during set-up: " + r->error);
    }
  }
  return Status::ok();
}

Result<std::vector<std::unique_ptr<ClusterClient>>> loginClients(
    const BenchOptions& o, const std::vector<std::string>& names) {
  // Fail fast with the reason when no node can be reached at all, rather than retrying for
  // a minute as a client riding out a failover would.
  std::string reasons;
  bool reachable = false;
  for (const auto& server : o.servers) {
    auto c = Connection::connect(server, Millis(o.connectTimeoutMs), {}, o.tls.get());
    // A ping proves the node speaks to us (it refuses, e.g., a client in the clear on a
    // TLS port, and says so).
    auto pong = c ? (*c)->call(protocol::PingRequest{1}, Millis(o.connectTimeoutMs))
                  : Result<protocol::Response>(c.error());
    if (pong) {
      reachable = true;
      break;
    }
    reasons += (reasons.empty() ? "" : "; ") + pong.error().message();
  }
  if (!reachable) {
    return Status::unavailable(reasons);
  }
  auto setup = makeClient(o);
  for (size_t i = 0; i < names.size(); i += 1000) {
    std::vector<uint64_t> ids;
    for (size_t k = i; k < std::min(names.size(), i + 1000); ++k) {
      ids.push_back(setup->submit(protocol::CreateRequest{names[k], o.password}));
    }
    setup->flush();
    CHAT_RETURN_IF_ERROR(awaitAll(*setup, ids, protocol::ErrorCode::kUsernameTaken));
  }
  std::vector<std::unique_ptr<ClusterClient>> out;
  for (const auto& name : names) {
    out.push_back(makeClient(o));
    uint64_t id = out.back()->submit(protocol::LoginRequest{name, o.password});
    CHAT_RETURN_IF_ERROR(awaitAll(*out.back(), {id}));
  }
  return out;
}

}  // namespace chat::bench
