#include "room_runner.h"

#include <Poco/JSON/Object.h>

#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "bench_body.h"
#include "bench_clients.h"
#include "chat/common/random.h"
#include "chat/protocol/json_text.h"

namespace chat::bench {

namespace {

using Clock = std::chrono::steady_clock;
using client::ClusterClient;
using client::ConnectionEvent;
using namespace std::chrono_literals;

// A message's key in the bodies: the sender's index in the high half, its sequence below.
int64_t messageKey(int sender, int64_t seq) {
  return (static_cast<int64_t>(sender) << 32) | seq;
}

struct Member {
  int index = 0;
  std::unique_ptr<ClusterClient> client;
  bool sender = false;
  int64_t nextSeq = 0;
  int inFlight = 0;
  int64_t acked = 0;
  int64_t errors = 0;
  double nextSendAt = 0;
  bool doneSending = false;
  std::unordered_set<int64_t> seen;  // message keys received
  int64_t duplicates = 0;
};

// What one thread saw of each message: copies received and when the last arrived.
struct Arrivals {
  int count = 0;
  int64_t sentNanos = 0;
  int64_t lastNanos = 0;
};

struct ThreadResult {
  std::vector<int64_t> latencies;  // per delivery, ns
  std::unordered_map<int64_t, Arrivals> arrivals;
  double lastReceive = 0;
  Status status;
};

// Shared progress: messages acknowledged, copies received, senders that finished.
struct Progress {
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> delivered{0};
  std::atomic<int> inFlight{0};
  std::atomic<int> sendersDone{0};
  std::atomic<bool> failed{false};
};

void serveMember(Member& m, ThreadResult& result, Progress& progress, Clock::time_point start) {
  m.client->pump();
  std::vector<uint64_t> ids;
  int64_t now = nowNanos();
  auto take = [&](const protocol::ChatMessage& msg) {
    ids.push_back(msg.id);
    int64_t key = 0;
    int64_t sentAt = 0;
    if (!parseBody(msg.body, key, sentAt)) {
      return;
    }
    if (!m.seen.insert(key).second) {
      ++m.duplicates;
      return;
    }
    result.latencies.push_back(now - sentAt);
    Arrivals& a = result.arrivals[key];
    ++a.count;
    a.sentNanos = sentAt;
    a.lastNanos = std::max(a.lastNanos, now);
    progress.delivered.fetch_add(1);
  };
  while (auto e = m.client->nextEvent()) {
    if (auto* r = std::get_if<protocol::Response>(&*e)) {
      if (r->opcode == protocol::Opcode::kSend) {
        --m.inFlight;
        progress.inFlight.fetch_sub(1);
        if (r->isOk()) {
          ++m.acked;
          progress.acked.fetch_add(1);
        } else {
          ++m.errors;
          if (result.status.isOk()) {
            result.status = Status::aborted("a send failed: " + r->error);
          }
        }
      } else if (auto* d = std::get_if<protocol::DeliverReply>(&r->body)) {
        for (const auto& msg : d->messages) {
          take(msg);
        }
        if (d->remaining > 0) {
          m.client->submit(protocol::DeliverRequest{});
        }
      }
    } else if (auto* push = std::get_if<protocol::Push>(&*e)) {
      if (auto* mp = std::get_if<protocol::MessagePush>(push)) {
        take(mp->message);
      }
    } else if (auto* c = std::get_if<ConnectionEvent>(&*e)) {
      if (c->kind == ConnectionEvent::Kind::kResumed) {
        m.client->submit(protocol::DeliverRequest{});  // what the old leader pushed unacked
      }
    }
  }
  if (!ids.empty()) {
    result.lastReceive = std::chrono::duration<double>(Clock::now() - start).count();
    m.client->submit(protocol::AckRequest{std::move(ids)});
  }
  m.client->flush();
}

void drive(const BenchOptions& o, const std::string& room, int members, int senders,
           const std::vector<Member*>& mine, Clock::time_point start, Progress& progress,
           ThreadResult& result) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<int> fds(mine.size(), -1);
  std::unordered_map<int, size_t> byFd;
  auto refresh = [&] {
    for (size_t i = 0; i < mine.size(); ++i) {
      int fd = mine[i]->client->fd();
      if (fd == fds[i]) {
        continue;
      }
      fds[i] = fd;
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
  refresh();
  const bool rateMode = o.rate > 0;
  const double interval = rateMode ? static_cast<double>(senders) / o.rate : 0;
  for (Member* m : mine) {
    m->nextSendAt = interval * m->index / std::max(senders, 1);
  }
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double lastProgressAt = 0;
  int64_t lastCount = -1;
  double lastSweep = 0;
  epoll_event events[256];
  while (result.status.isOk() && !progress.failed.load()) {
    double now = elapsed();
    for (Member* m : mine) {
      if (!m->sender || m->doneSending) {
        continue;
      }
      bool queued = false;
      while (!m->doneSending && m->inFlight < (rateMode ? 1000000 : o.window)) {
        if (rateMode) {
          if (now >= o.duration) {
            m->doneSending = true;
            break;
          }
          if (now < m->nextSendAt) {
            break;
          }
          m->nextSendAt += interval;
        } else if (m->nextSeq >= o.messages) {
          m->doneSending = true;
          break;
        }
        m->client->submit(
            protocol::SendRequest{room, makeBody(messageKey(m->index, m->nextSeq++), o.size)});
        ++m->inFlight;
        progress.inFlight.fetch_add(1);
        queued = true;
      }
      if (m->doneSending) {
        progress.sendersDone.fetch_add(1);
      }
      if (queued) {
        m->client->flush();
      }
    }
    // Done when every sender is, nothing is in flight, and every member has every message.
    int64_t expected = progress.acked.load() * (members - 1);
    if (progress.sendersDone.load() == senders && progress.inFlight.load() == 0 &&
        progress.delivered.load() >= expected) {
      break;
    }
    int64_t count = progress.acked.load() + progress.delivered.load();
    if (count != lastCount) {
      lastCount = count;
      lastProgressAt = now;
    } else if (now - lastProgressAt > 30) {
      result.status = Status::timeout("no progress for 30 s: room messages are missing");
      progress.failed = true;
      break;
    }
    int n = ::epoll_wait(ep, events, 256, rateMode ? 1 : 10);
    for (int i = 0; i < n; ++i) {
      if (auto it = byFd.find(events[i].data.fd); it != byFd.end()) {
        serveMember(*mine[it->second], result, progress, start);
      }
    }
    if (now - lastSweep > 0.01) {  // timed work of every client
      lastSweep = now;
      for (Member* m : mine) {
        serveMember(*m, result, progress, start);
      }
    }
    refresh();
  }
  ::close(ep);
}

}  // namespace

Result<RoomBenchResult> runRoomBench(const BenchOptions& o) {
  Random random(Random::entropySeed());
  char run[8];
  std::snprintf(run, sizeof run, "%06llx",
                static_cast<unsigned long long>(random.next() & 0xFFFFFF));
  const int n = o.roomMembers;
  const int senders = std::min(o.roomSenders, n);
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    names.push_back(std::string("b") + run + "m" + std::to_string(i));
  }
  auto clients = loginClients(o, names);
  if (!clients) {
    return clients.error();
  }
  // The first member makes the room and adds the others.
  std::string room = std::string("#b") + run;
  ClusterClient& owner = *(*clients)[0];
  CHAT_RETURN_IF_ERROR(
      awaitAll(owner, {owner.submit(protocol::CreateRoomRequest{room, protocol::RoomAccess::kOpen})}));
  std::vector<uint64_t> invites;
  for (int i = 1; i < n; ++i) {
    invites.push_back(owner.submit(protocol::InviteToRoomRequest{room, names[static_cast<size_t>(i)]}));
  }
  owner.flush();
  CHAT_RETURN_IF_ERROR(awaitAll(owner, invites));

  std::vector<Member> members(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    members[static_cast<size_t>(i)].index = i;
    members[static_cast<size_t>(i)].client = std::move((*clients)[static_cast<size_t>(i)]);
    members[static_cast<size_t>(i)].sender = i < senders;
  }
  int threads = std::max(1, std::min(o.threads, n));
  std::vector<std::vector<Member*>> shares(static_cast<size_t>(threads));
  for (size_t i = 0; i < members.size(); ++i) {
    shares[i % shares.size()].push_back(&members[i]);
  }
  std::vector<ThreadResult> results(shares.size());
  Progress progress;
  auto start = Clock::now();
  {
    std::vector<std::jthread> workers;
    for (size_t t = 0; t < shares.size(); ++t) {
      workers.emplace_back(
          [&, t] { drive(o, room, n, senders, shares[t], start, progress, results[t]); });
    }
  }
  RoomBenchResult r;
  r.members = n;
  r.senders = senders;
  std::vector<int64_t> latencies;
  std::unordered_map<int64_t, Arrivals> arrivals;
  Status failure;
  for (auto& t : results) {
    latencies.insert(latencies.end(), t.latencies.begin(), t.latencies.end());
    r.seconds = std::max(r.seconds, t.lastReceive);
    for (const auto& [key, a] : t.arrivals) {
      Arrivals& all = arrivals[key];
      all.count += a.count;
      all.sentNanos = a.sentNanos;
      all.lastNanos = std::max(all.lastNanos, a.lastNanos);
    }
    if (!t.status.isOk() && failure.isOk()) {
      failure = t.status;
    }
  }
  for (const auto& m : members) {
    r.messages += m.acked;
    r.sendErrors += m.errors;
    r.duplicates += m.duplicates;
    r.deliveries += static_cast<int64_t>(m.seen.size());
  }
  std::vector<int64_t> last;
  for (const auto& [key, a] : arrivals) {
    if (a.count == n - 1) {
      last.push_back(a.lastNanos - a.sentNanos);
    }
  }
  finishRoomResult(r, std::move(latencies), std::move(last));
  if (!failure.isOk()) {
    return failure;
  }
  return r;
}

void finishRoomResult(RoomBenchResult& r, std::vector<int64_t> latencies,
                      std::vector<int64_t> lastLatencies) {
  r.missing = std::max<int64_t>(0, r.messages * (r.members - 1) - r.deliveries);
  std::sort(latencies.begin(), latencies.end());
  std::sort(lastLatencies.begin(), lastLatencies.end());
  r.deliveriesPerSecond = r.seconds > 0 ? static_cast<double>(r.deliveries) / r.seconds : 0;
  r.p50Micros = percentile(latencies, 0.50);
  r.p99Micros = percentile(latencies, 0.99);
  r.lastP50Micros = percentile(lastLatencies, 0.50);
  r.lastP99Micros = percentile(lastLatencies, 0.99);
  r.lastMaxMicros =
      lastLatencies.empty() ? 0 : static_cast<double>(lastLatencies.back()) / 1000.0;
}

std::string formatRoomResult(const BenchOptions& o, const RoomBenchResult& r) {
  char buf[1024];
  std::string mode = o.rate > 0 ? "rate " + std::to_string(static_cast<int>(o.rate)) +
                                      " msg/s for " + std::to_string(static_cast<int>(o.duration)) +
                                      " s"
                                : std::to_string(o.messages) + " messages each, window " +
                                      std::to_string(o.window);
  std::snprintf(buf, sizeof buf,
                "room of %d members, %d senders, %s, %zu-byte bodies\n"
                "messages %lld acknowledged, deliveries %lld, missing %lld, doubled %lld, "
                "errors %lld\n"
                "%.0f deliveries/s over %.2f s\n"
                "send to a member's push: p50 %.0f us, p99 %.0f us\n"
                "send to the last member's push: p50 %.0f us, p99 %.0f us, max %.0f us\n%s\n",
                r.members, r.senders, mode.c_str(), o.size, static_cast<long long>(r.messages),
                static_cast<long long>(r.deliveries), static_cast<long long>(r.missing),
                static_cast<long long>(r.duplicates), static_cast<long long>(r.sendErrors),
                r.deliveriesPerSecond, r.seconds, r.p50Micros, r.p99Micros, r.lastP50Micros,
                r.lastP99Micros, r.lastMaxMicros,
                r.ok() ? "OK: every member got every message exactly once"
                       : "FAILED: copies missing or doubled");
  return buf;
}

std::string formatRoomResultJson(const BenchOptions& o, const RoomBenchResult& r) {
  Poco::JSON::Object j(Poco::JSON_PRESERVE_KEY_ORDER);
  j.set("room", r.members);
  j.set("senders", r.senders);
  j.set("rate", o.rate);
  j.set("duration", o.duration);
  j.set("size", o.size);
  j.set("messages", r.messages);
  j.set("deliveries", r.deliveries);
  j.set("missing", r.missing);
  j.set("duplicates", r.duplicates);
  j.set("errors", r.sendErrors);
  j.set("seconds", r.seconds);
  j.set("deliveriesPerSecond", r.deliveriesPerSecond);
  j.set("p50Micros", r.p50Micros);
  j.set("p99Micros", r.p99Micros);
  j.set("lastP50Micros", r.lastP50Micros);
  j.set("lastP99Micros", r.lastP99Micros);
  j.set("lastMaxMicros", r.lastMaxMicros);
  j.set("ok", r.ok());
  return protocol::jsonText(j);
}

}  // namespace chat::bench
