#include "bench_runner.h"

#include <Poco/JSON/Object.h>

#include "bench_body.h"
#include "bench_clients.h"

#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chat/client/cluster_client.h"
#include "chat/client/connection.h"
#include "chat/common/random.h"
#include "chat/protocol/json_text.h"

namespace chat::bench {

namespace {

using Clock = std::chrono::steady_clock;
using client::ClientEvent;
using client::ClusterClient;
using client::Connection;
using client::ConnectionEvent;
using client::Millis;
using namespace std::chrono_literals;

struct Pair {
  int index = 0;
  std::string senderName;
  std::string recipientName;
  std::unique_ptr<ClusterClient> sender;
  std::unique_ptr<ClusterClient> recipient;
  int64_t nextSeq = 0;
  int inFlight = 0;
  int64_t acked = 0;  // sends acknowledged ok
  int64_t errors = 0;
  std::vector<uint8_t> seen;  // by sequence: times received
  int64_t received = 0;
  int64_t duplicates = 0;
  double nextSendAt = 0;  // seconds since start, rate mode
  bool doneSending = false;
  int64_t reconnects = 0;
};

Result<std::unique_ptr<Connection>> open(const BenchOptions& o) {
  return Connection::connect(o.servers.front(), Millis(o.connectTimeoutMs), {}, o.tls.get());
}

// Runs `requests` on `c` pipelined and checks every reply is OK (or the `allowed` code).
Status pipeline(Connection& c, const std::vector<protocol::Request>& requests,
                protocol::ErrorCode allowed = protocol::ErrorCode::kOk) {
  for (const auto& r : requests) {
    c.queueRequest(c.nextRequestId(), r);
  }
  CHAT_RETURN_IF_ERROR(c.flush(60000ms));
  size_t answered = 0;
  while (answered < requests.size()) {
    auto m = c.receive(60000ms);
    if (!m) {
      return m.error();
    }
    if (!m->has_value()) {
      return Status::timeout("the node stopped answering during set-up");
    }
    if (auto* r = std::get_if<protocol::Response>(&**m)) {
      ++answered;
      if (!r->isOk() && r->code != allowed) {
        return Status::aborted(std::string(protocol::opcodeName(r->opcode)) +
                               " failed during set-up: " + r->error);
      }
    }
  }
  return Status::ok();
}

// Creates the accounts, opens one connection per name and logs each in, with the logins
// pipelined over all connections.
Result<std::vector<std::unique_ptr<Connection>>> loginAll(const BenchOptions& o,
                                                          const std::vector<std::string>& names) {
  std::vector<std::unique_ptr<Connection>> out;
  {
    auto setup = open(o);
    if (!setup) {
      return setup.error();
    }
    for (size_t i = 0; i < names.size(); i += 1000) {
      std::vector<protocol::Request> creates;
      for (size_t k = i; k < std::min(names.size(), i + 1000); ++k) {
        creates.emplace_back(protocol::CreateRequest{names[k], o.password});
      }
      CHAT_RETURN_IF_ERROR(pipeline(**setup, creates, protocol::ErrorCode::kUsernameTaken));
    }
  }
  for (const auto& name : names) {
    auto c = open(o);
    if (!c) {
      return c.error();
    }
    (*c)->queueRequest((*c)->nextRequestId(), protocol::LoginRequest{name, o.password});
    CHAT_RETURN_IF_ERROR((*c)->flush(5000ms));
    out.push_back(std::move(c).value());
  }
  for (auto& c : out) {
    for (;;) {
      auto m = c->receive(60000ms);
      if (!m || !m->has_value()) {
        return Status::timeout("no reply to a login during set-up");
      }
      if (auto* r = std::get_if<protocol::Response>(&**m)) {
        if (!r->isOk()) {
          return Status::aborted("login failed during set-up: " + r->error);
        }
        break;
      }
    }
  }
  return out;
}

struct ThreadResult {
  std::vector<int64_t> latencies;  // nanoseconds
  double lastReceive = 0;          // seconds since start
  Status status;
};

void record(Pair& p, ThreadResult& result, const protocol::ChatMessage& m, int64_t now) {
  int64_t seq = 0;
  int64_t sentAt = 0;
  if (!parseBody(m.body, seq, sentAt) || seq < 0) {
    return;
  }
  if (static_cast<size_t>(seq) >= p.seen.size()) {
    p.seen.resize(static_cast<size_t>(seq) + 1024, 0);
  }
  if (p.seen[static_cast<size_t>(seq)]++ == 0) {
    ++p.received;
    result.latencies.push_back(now - sentAt);
  } else {
    ++p.duplicates;
  }
}

// Handles what the sender's client has: replies to sends.
void onSenderEvents(Pair& p, ThreadResult& result) {
  p.sender->pump();
  while (auto e = p.sender->nextEvent()) {
    if (auto* r = std::get_if<protocol::Response>(&*e)) {
      if (r->opcode != protocol::Opcode::kSend) {
        continue;
      }
      --p.inFlight;
      if (r->isOk()) {
        ++p.acked;
      } else {
        ++p.errors;
        if (result.status.isOk()) {
          result.status = Status::aborted("a send failed: " + r->error);
        }
      }
    } else if (auto* c = std::get_if<ConnectionEvent>(&*e)) {
      p.reconnects += c->kind == ConnectionEvent::Kind::kResumed ? 1 : 0;
    }
  }
}

// Handles what the recipient's client has: message pushes, checked off and acked in one ack
// request per wakeup; after a failover, a deliver for what the old leader pushed unacked.
void onRecipientEvents(Pair& p, ThreadResult& result, Clock::time_point start) {
  p.recipient->pump();
  std::vector<uint64_t> ids;
  int64_t now = nowNanos();
  while (auto e = p.recipient->nextEvent()) {
    if (auto* push = std::get_if<protocol::Push>(&*e)) {
      if (auto* mp = std::get_if<protocol::MessagePush>(push)) {
        ids.push_back(mp->message.id);
        record(p, result, mp->message, now);
      }
    } else if (auto* r = std::get_if<protocol::Response>(&*e)) {
      if (auto* d = std::get_if<protocol::DeliverReply>(&r->body)) {
        for (const auto& m : d->messages) {
          ids.push_back(m.id);
          record(p, result, m, now);
        }
        if (d->remaining > 0) {
          p.recipient->submit(protocol::DeliverRequest{});
        }
      }
    } else if (auto* c = std::get_if<ConnectionEvent>(&*e)) {
      if (c->kind == ConnectionEvent::Kind::kResumed) {
        ++p.reconnects;
        p.recipient->submit(protocol::DeliverRequest{});
      }
    }
  }
  if (!ids.empty()) {
    result.lastReceive = std::chrono::duration<double>(Clock::now() - start).count();
    p.recipient->submit(protocol::AckRequest{std::move(ids)});
  }
  p.recipient->flush();
}

void drive(const BenchOptions& o, const std::vector<Pair*>& pairs, Clock::time_point start,
           ThreadResult& result) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  // A client's socket changes when it fails over: (re)register whatever it has now.
  struct Watched {
    Pair* pair;
    bool sender;
    int fd = -1;
  };
  std::vector<Watched> watched;
  for (Pair* p : pairs) {
    watched.push_back({p, true});
    watched.push_back({p, false});
  }
  std::unordered_map<int, size_t> byFd;  // fd -> index in watched
  auto refresh = [&] {
    for (size_t i = 0; i < watched.size(); ++i) {
      Watched& w = watched[i];
      int fd = w.sender ? w.pair->sender->fd() : w.pair->recipient->fd();
      if (fd == w.fd) {
        continue;
      }
      w.fd = fd;  // a closed descriptor has left the epoll set by itself
      if (fd >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
          ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
        }
        byFd[fd] = i;
      }
    }
  };
  auto serve = [&](const Watched& w) {
    if (w.sender) {
      onSenderEvents(*w.pair, result);
    } else {
      onRecipientEvents(*w.pair, result, start);
    }
  };
  refresh();
  const bool rateMode = o.rate > 0;
  const double interval = rateMode ? static_cast<double>(o.pairs) / o.rate : 0;
  const int maxInFlight = rateMode ? 1000000 : o.window;
  // Spread the senders' schedules evenly over one interval, so a fixed rate arrives as a
  // steady stream rather than in bursts of one message per sender.
  for (size_t i = 0; i < pairs.size(); ++i) {
    pairs[i]->nextSendAt = interval * static_cast<double>(pairs[i]->index) / o.pairs;
  }
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double lastProgress = 0;
  double lastSweep = 0;
  int64_t lastCount = -1;
  epoll_event events[256];
  while (result.status.isOk()) {
    double now = elapsed();
    bool allDone = true;
    int64_t progress = 0;
    for (Pair* p : pairs) {
      bool queued = false;
      while (!p->doneSending && p->inFlight < maxInFlight) {
        if (rateMode) {
          if (now >= o.duration) {
            p->doneSending = true;
            break;
          }
          if (now < p->nextSendAt) {
            break;
          }
          p->nextSendAt += interval;
        } else if (p->nextSeq >= o.messages) {
          p->doneSending = true;
          break;
        }
        p->sender->submit(protocol::SendRequest{p->recipientName, makeBody(p->nextSeq++, o.size)});
        ++p->inFlight;
        queued = true;
      }
      if (queued) {
        p->sender->flush();
      }
      if (!p->doneSending || p->inFlight > 0 || p->received < p->acked) {
        allDone = false;
      }
      progress += p->acked + p->received;
    }
    if (allDone) {
      break;
    }
    if (progress != lastCount) {
      lastCount = progress;
      lastProgress = now;
    } else if (now - lastProgress > 30) {
      result.status = Status::timeout("no progress for 30 s: messages are missing");
      break;
    }
    int timeoutMs = rateMode ? 1 : 10;
    int n = ::epoll_wait(ep, events, 256, timeoutMs);
    for (int i = 0; i < n; ++i) {
      auto it = byFd.find(events[i].data.fd);
      if (it != byFd.end()) {
        serve(watched[it->second]);
      }
    }
    // Timed work (reconnects, retries, keepalives) for every client, a hundred times a second.
    if (now - lastSweep > 0.01) {
      lastSweep = now;
      for (const Watched& w : watched) {
        serve(w);
      }
    }
    refresh();
  }
  ::close(ep);
}

}  // namespace

Result<int64_t> awaitNode(const BenchOptions& o) {
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(o.awaitSeconds));
  while (Clock::now() < deadline) {
    auto c = Connection::connect(o.servers.front(), 200ms, {}, o.tls.get());
    if (c) {
      auto status = (*c)->call(protocol::StatusRequest{}, 1000ms);
      if (status && status->isOk()) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)
            .count();
      }
    }
    std::this_thread::sleep_for(5ms);
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", o.awaitSeconds);
  return Status::timeout(std::string("the node did not answer within ") + seconds + " s");
}

Result<BenchResult> runBench(const BenchOptions& o) {
  Random random(Random::entropySeed());
  char run[8];
  std::snprintf(run, sizeof run, "%06llx",
                static_cast<unsigned long long>(random.next() & 0xFFFFFF));
  BenchResult result;

  std::vector<std::string> names;
  for (int i = 0; i < o.pairs; ++i) {
    names.push_back(std::string("b") + run + "s" + std::to_string(i));
    names.push_back(std::string("b") + run + "r" + std::to_string(i));
  }
  auto connections = loginClients(o, names);
  if (!connections) {
    return connections.error();
  }
  std::vector<std::unique_ptr<Connection>> idle;
  if (o.idleConnections > 0) {
    std::vector<std::string> idleNames;
    for (int i = 0; i < o.idleConnections; ++i) {
      idleNames.push_back(std::string("b") + run + "i" + std::to_string(i));
    }
    auto idleConnections = loginAll(o, idleNames);
    if (!idleConnections) {
      return idleConnections.error();
    }
    idle = std::move(idleConnections).value();
    result.idleConnections = static_cast<int>(idle.size());
  }

  std::vector<Pair> pairs(static_cast<size_t>(o.pairs));
  for (size_t i = 0; i < pairs.size(); ++i) {
    pairs[i].index = static_cast<int>(i);
    pairs[i].senderName = names[2 * i];
    pairs[i].recipientName = names[2 * i + 1];
    pairs[i].sender = std::move((*connections)[2 * i]);
    pairs[i].recipient = std::move((*connections)[2 * i + 1]);
    pairs[i].seen.resize(o.rate > 0 ? 1024 : static_cast<size_t>(o.messages), 0);
  }
  int threads = std::min(o.threads, o.pairs);
  std::vector<std::vector<Pair*>> shares(static_cast<size_t>(threads));
  for (size_t i = 0; i < pairs.size(); ++i) {
    shares[i % shares.size()].push_back(&pairs[i]);
  }
  std::vector<ThreadResult> results(shares.size());
  auto start = Clock::now();
  {
    std::vector<std::jthread> workers;
    for (size_t t = 0; t < shares.size(); ++t) {
      workers.emplace_back([&, t] { drive(o, shares[t], start, results[t]); });
    }
  }
  std::vector<int64_t> latencies;
  double last = 0;
  Status failure;
  for (auto& r : results) {
    latencies.insert(latencies.end(), r.latencies.begin(), r.latencies.end());
    last = std::max(last, r.lastReceive);
    if (!r.status.isOk() && failure.isOk()) {
      failure = r.status;
    }
  }
  for (const auto& p : pairs) {
    result.sent += p.acked;
    result.received += p.received;
    result.duplicates += p.duplicates;
    result.sendErrors += p.errors;
    result.reconnects += p.reconnects;
    // Every acknowledged sequence number must have arrived.
    for (int64_t seq = 0; seq < p.nextSeq; ++seq) {
      if (static_cast<size_t>(seq) >= p.seen.size() || p.seen[static_cast<size_t>(seq)] == 0) {
        ++result.missing;
      }
    }
    result.missing -= std::max<int64_t>(0, p.nextSeq - p.acked - p.errors);  // never answered
  }
  std::sort(latencies.begin(), latencies.end());
  result.seconds = last;
  result.messagesPerSecond = last > 0 ? static_cast<double>(result.received) / last : 0;
  result.p50Micros = percentile(latencies, 0.50);
  result.p99Micros = percentile(latencies, 0.99);
  result.p999Micros = percentile(latencies, 0.999);
  result.maxMicros = latencies.empty() ? 0 : static_cast<double>(latencies.back()) / 1000.0;

  // The node's own view: connections and resident memory, read with a status request.
  auto probe = open(o);
  if (probe) {
    auto status = (*probe)->call(protocol::StatusRequest{}, 10000ms);
    if (status && status->isOk()) {
      const auto& s = std::get<protocol::StatusReply>(status->body).status;
      result.nodeResidentBytes = s.residentBytes;
      result.nodeConnections = s.connections;
    }
  }
  if (o.holdSeconds > 0) {
    std::this_thread::sleep_for(std::chrono::seconds(o.holdSeconds));
  }
  if (!failure.isOk()) {
    return failure;
  }
  return result;
}

std::string formatResult(const BenchOptions& o, const BenchResult& r) {
  char buf[1024];
  if (o.protocol != BenchProtocol::kChat) {
    std::snprintf(buf, sizeof buf,
                  "%s, pairs %d, window %d, %zu-byte bodies%s\n"
                  "sent %lld, received %lld, missing %lld, doubled %lld\n"
                  "%.0f messages/s delivered over %.2f s\n"
                  "send-to-receive latency: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n"
                  "%s\n",
                  o.protocol == BenchProtocol::kIrc ? "IRC (PRIVMSG)" : "Redis pub/sub", o.pairs,
                  o.rate > 0 ? 0 : o.window, o.size,
                  o.rate > 0 ? (", rate " + std::to_string(static_cast<int>(o.rate)) + "/s for " +
                                std::to_string(static_cast<int>(o.duration)) + " s")
                                   .c_str()
                             : "",
                  static_cast<long long>(r.sent), static_cast<long long>(r.received),
                  static_cast<long long>(r.missing), static_cast<long long>(r.duplicates),
                  r.messagesPerSecond, r.seconds, r.p50Micros, r.p99Micros, r.p999Micros,
                  r.maxMicros,
                  r.ok() ? "OK: every message arrived exactly once"
                         : "FAILED: messages missing or doubled");
    return buf;
  }
  std::snprintf(
      buf, sizeof buf,
      "pairs %d, window %d, %zu-byte bodies%s\n"
      "sent %lld acknowledged, received %lld, missing %lld, doubled %lld, errors %lld, "
      "sessions resumed %lld\n"
      "%.0f messages/s delivered over %.2f s\n"
      "send-to-receive latency: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n"
      "node: %u connections, %.1f MiB resident%s\n"
      "%s\n",
      o.pairs, o.rate > 0 ? 0 : o.window, o.size,
      o.rate > 0 ? (", rate " + std::to_string(static_cast<int>(o.rate)) + "/s for " +
                    std::to_string(static_cast<int>(o.duration)) + " s")
                       .c_str()
                 : "",
      static_cast<long long>(r.sent), static_cast<long long>(r.received),
      static_cast<long long>(r.missing), static_cast<long long>(r.duplicates),
      static_cast<long long>(r.sendErrors), static_cast<long long>(r.reconnects),
      r.messagesPerSecond, r.seconds, r.p50Micros,
      r.p99Micros, r.p999Micros, r.maxMicros, r.nodeConnections,
      static_cast<double>(r.nodeResidentBytes) / (1024.0 * 1024.0),
      r.idleConnections > 0
          ? (" (with " + std::to_string(r.idleConnections) + " idle logged-in)").c_str()
          : "",
      r.ok() ? "OK: every message arrived exactly once" : "FAILED: messages missing or doubled");
  return buf;
}

std::string formatResultJson(const BenchOptions& o, const BenchResult& r) {
  Poco::JSON::Object j(Poco::JSON_PRESERVE_KEY_ORDER);
  j.set("pairs", o.pairs);
  j.set("window", o.window);
  j.set("size", o.size);
  j.set("rate", o.rate);
  j.set("duration", o.duration);
  j.set("sent", r.sent);
  j.set("received", r.received);
  j.set("missing", r.missing);
  j.set("duplicates", r.duplicates);
  j.set("errors", r.sendErrors);
  j.set("reconnects", r.reconnects);
  j.set("seconds", r.seconds);
  j.set("messagesPerSecond", r.messagesPerSecond);
  j.set("p50Micros", r.p50Micros);
  j.set("p99Micros", r.p99Micros);
  j.set("p999Micros", r.p999Micros);
  j.set("maxMicros", r.maxMicros);
  j.set("idleConnections", r.idleConnections);
  j.set("nodeConnections", r.nodeConnections);
  j.set("nodeResidentBytes", r.nodeResidentBytes);
  j.set("ok", r.ok());
  return protocol::jsonText(j);
}

}  // namespace chat::bench
