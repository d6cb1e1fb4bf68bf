// ClusterClient's timers on a FakeClock: a request times out, a silent node is given up on and
// an idle client pings when the clock says so, not when real time has passed. The node is a
// socket on loopback that accepts and never answers (a paused leader, as far as TCP shows).
#include "chat/client/cluster_client.h"

#include <poll.h>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include "chat/protocol/frame.h"

namespace chat::client {
namespace {

using namespace std::chrono_literals;

class ClusterClientClockTest : public ::testing::Test {
 protected:
  ClusterClientOptions options() {
    ClusterClientOptions o;
    o.servers = {"127.0.0.1:" + std::to_string(silentNode_.address().port())};
    o.clock = &clock_;
    o.seed = 7;
    o.requestTimeout = Millis(3'600'000);
    o.silenceTimeout = Millis(3'600'000);
    o.keepaliveInterval = Millis(3'600'000);
    return o;
  }
  // The events the client has now, after one pump.
  std::vector<ClientEvent> pumped(ClusterClient& c) {
    c.pump();
    std::vector<ClientEvent> events;
    while (auto e = c.nextEvent()) {
      events.push_back(std::move(*e));
    }
    return events;
  }
  static bool has(const std::vector<ClientEvent>& events, ConnectionEvent::Kind kind) {
    return std::any_of(events.begin(), events.end(), [&](const ClientEvent& e) {
      const auto* c = std::get_if<ConnectionEvent>(&e);
      return c != nullptr && c->kind == kind;
    });
  }
  static const protocol::Response* responseIn(const std::vector<ClientEvent>& events) {
    for (const auto& e : events) {
      if (const auto* r = std::get_if<protocol::Response>(&e)) {
        return r;
      }
    }
    return nullptr;
  }
  // The frames the node has received on `s` within `wait` of real time.
  static std::vector<protocol::Frame> framesOn(Poco::Net::StreamSocket& s, Millis wait) {
    std::vector<protocol::Frame> frames;
    pollfd p{s.impl()->sockfd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) {
      return frames;
    }
    std::vector<uint8_t> in(4096);
    int n = s.receiveBytes(in.data(), static_cast<int>(in.size()));
    protocol::FrameDecoder decoder(1 << 16);
    decoder.feed(std::span<const uint8_t>(in.data(), static_cast<size_t>(std::max(n, 0))));
    while (auto f = decoder.next()) {
      frames.push_back(std::move(*f));
    }
    return frames;
  }

  FakeClock clock_;
  Poco::Net::ServerSocket silentNode_{Poco::Net::SocketAddress("127.0.0.1", 0)};
};

TEST_F(ClusterClientClockTest, ARequestUnansweredFailsWhenTheClockPassesItsTimeout) {
  auto o = options();
  o.requestTimeout = 30s;
  ClusterClient c(o);
  uint64_t id = c.submit(protocol::StatusRequest{});
  EXPECT_TRUE(has(pumped(c), ConnectionEvent::Kind::kConnected));
  clock_.advance(29s);
  EXPECT_EQ(responseIn(pumped(c)), nullptr) << "failed before its time";
  EXPECT_LE(c.timeUntilWork(), Millis(1000));
  clock_.advance(1001ms);
  auto events = pumped(c);
  const protocol::Response* r = responseIn(events);
  ASSERT_NE(r, nullptr) << "the timeout did not follow the clock";
  EXPECT_EQ(r->requestId, id);
  EXPECT_EQ(r->code, protocol::ErrorCode::kUnavailable);
  EXPECT_NE(r->error.find("within 30 s"), std::string::npos) << r->error;
  EXPECT_EQ(c.pendingCount(), 0u);
}

TEST_F(ClusterClientClockTest, ASilentNodeIsLeftWhenTheClockPassesTheSilenceTimeout) {
  auto o = options();
  o.silenceTimeout = 2s;
  o.minBackoff = 5s;
  o.maxBackoff = 5s;
  ClusterClient c(o);
  c.submit(protocol::StatusRequest{});
  ASSERT_TRUE(has(pumped(c), ConnectionEvent::Kind::kConnected));
  clock_.advance(1999ms);
  EXPECT_FALSE(has(pumped(c), ConnectionEvent::Kind::kLost));
  clock_.advance(2ms);
  auto events = pumped(c);
  ASSERT_TRUE(has(events, ConnectionEvent::Kind::kLost)) << "silence did not follow the clock";
  EXPECT_FALSE(c.isConnected());
  EXPECT_EQ(c.pendingCount(), 1u) << "the request waits for the next connection";
  // The next attempt waits for its backoff on the same clock, however long real time passes.
  EXPECT_GT(c.timeUntilWork(), Millis(0));
  EXPECT_FALSE(has(pumped(c), ConnectionEvent::Kind::kConnected));
  clock_.advance(5s);
  EXPECT_TRUE(has(pumped(c), ConnectionEvent::Kind::kConnected));
}

TEST_F(ClusterClientClockTest, AnIdleClientPingsWhenTheClockSaysSo) {
  auto o = options();
  o.keepaliveInterval = 3s;
  ClusterClient c(o);
  ASSERT_TRUE(has(pumped(c), ConnectionEvent::Kind::kConnected));
  Poco::Net::StreamSocket node = silentNode_.acceptConnection();
  clock_.advance(2900ms);
  pumped(c);
  EXPECT_TRUE(framesOn(node, 100ms).empty()) << "pinged before the interval";
  clock_.advance(200ms);
  pumped(c);
  auto frames = framesOn(node, 2000ms);
  ASSERT_EQ(frames.size(), 1u) << "no keepalive once the clock passed the interval";
  EXPECT_EQ(frames[0].opcode, static_cast<uint16_t>(protocol::Opcode::kPing));
}

}  // namespace
}  // namespace chat::client
