// chat-chaos's judgement and schedule without a cluster: the history check must catch every
// kind of violation (a check that cannot fail proves nothing), and the planner must replay
// from its seed and never take down a majority.
#include <gtest/gtest.h>

#include "fault_planner.h"
#include "history_check.h"

namespace chat::chaos {
namespace {

std::vector<SentMessage> threeSends() {
  return {{1, 2, 1, true, 10}, {1, 2, 2, true, 11}, {1, 2, 3, false, 0}};
}

TEST(HistoryCheckTest, ACleanHistoryPasses) {
  auto r = checkHistory(threeSends(), {{2, 1, 1, 10}, {2, 1, 2, 11}});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.sent, 3);
  EXPECT_EQ(r.acked, 2);
  EXPECT_EQ(r.unacked, 1);
  EXPECT_EQ(r.delivered, 2);
  EXPECT_EQ(r.unackedDelivered, 0);
}

TEST(HistoryCheckTest, AnUnacknowledgedMessageMayArriveOrNot) {
  auto r = checkHistory(threeSends(), {{2, 1, 1, 10}, {2, 1, 2, 11}, {2, 1, 3, 12}});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.unackedDelivered, 1);
}

TEST(HistoryCheckTest, CatchesLossDuplicatesReorderingAndPhantoms) {
  auto lost = checkHistory(threeSends(), {{2, 1, 1, 10}});
  EXPECT_EQ(lost.lost, 1);
  EXPECT_FALSE(lost.ok());
  ASSERT_FALSE(lost.examples.empty());
  EXPECT_NE(lost.examples[0].find("never received: user 1 -> user 2 #2"), std::string::npos);

  auto twice = checkHistory(threeSends(), {{2, 1, 1, 10}, {2, 1, 2, 11}, {2, 1, 2, 11}});
  EXPECT_EQ(twice.duplicated, 1);
  // Stored twice: the copy that arrived is not the one acknowledged.
  auto stored = checkHistory(threeSends(), {{2, 1, 1, 10}, {2, 1, 2, 14}});
  EXPECT_EQ(stored.duplicated, 1);

  auto swapped = checkHistory({{1, 2, 1, true, 0}, {1, 2, 2, true, 0}}, {{2, 1, 1, 21}, {2, 1, 2, 20}});
  EXPECT_EQ(swapped.reordered, 1);

  auto phantom = checkHistory(threeSends(), {{2, 1, 1, 10}, {2, 1, 2, 11}, {2, 1, 9, 30}});
  EXPECT_EQ(phantom.phantom, 1);
  auto wrongUser = checkHistory(threeSends(), {{2, 1, 1, 10}, {2, 1, 2, 11}, {3, 1, 1, 10}});
  EXPECT_EQ(wrongUser.phantom, 1);
}

// A room message is expected by every other member; each member's copy is judged alone.
TEST(HistoryCheckTest, RoomMessagesAreExpectedOncePerMemberInTheRoomsOrder) {
  std::vector<SentMessage> room = {{0, 0, 1, true, 40}, {0, 0, 2, true, 41}};
  auto expanded = expandRoomSends(room, 3);
  ASSERT_EQ(expanded.size(), 4u);  // members 1 and 2, two messages each
  EXPECT_EQ(expanded[0].recipient, 1u);
  EXPECT_EQ(expanded[1].recipient, 2u);
  std::vector<ReceivedMessage> all = {{1, 0, 1, 40}, {1, 0, 2, 41}, {2, 0, 1, 40}, {2, 0, 2, 41}};
  EXPECT_TRUE(checkHistory(expanded, all).ok());
  // Member 2 missed the second: lost for member 2 only.
  auto missed = checkHistory(expanded, {{1, 0, 1, 40}, {1, 0, 2, 41}, {2, 0, 1, 40}});
  EXPECT_EQ(missed.lost, 1);
  ASSERT_FALSE(missed.examples.empty());
  EXPECT_NE(missed.examples[0].find("user 0 -> user 2 #2"), std::string::npos)
      << missed.examples[0];
  auto twice = checkHistory(expanded, {{1, 0, 1, 40}, {1, 0, 2, 41}, {1, 0, 2, 41},
                                       {2, 0, 1, 40}, {2, 0, 2, 41}});
  EXPECT_EQ(twice.duplicated, 1);
  // The sender is not a recipient of its own room message.
  auto echo = checkHistory(expanded, {{0, 0, 1, 40}, {1, 0, 1, 40}, {1, 0, 2, 41},
                                      {2, 0, 1, 40}, {2, 0, 2, 41}});
  EXPECT_EQ(echo.phantom, 1);
  auto body = parseChaosRoomBody(chaosRoomBody(4, 9));
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->sender, 4u);
  EXPECT_EQ(body->seq, 9u);
  EXPECT_FALSE(parseChaosRoomBody("chaos 1 2 3").has_value());
  EXPECT_FALSE(parseChaosRoomBody("chaos-room 1").has_value());
}

TEST(HistoryCheckTest, BodiesRoundTripAndStrangersAreRefused) {
  auto m = parseChaosBody(chaosBody(3, 5, 77));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->sender, 3u);
  EXPECT_EQ(m->recipient, 5u);
  EXPECT_EQ(m->seq, 77u);
  EXPECT_FALSE(parseChaosBody("hello").has_value());
  EXPECT_FALSE(parseChaosBody("chaos 1 2").has_value());
  EXPECT_FALSE(parseChaosBody("chaos 1 2 3x").has_value());
}

std::vector<Fault> plan(uint64_t seed, size_t nodes, int steps) {
  FaultPlanner p(seed, FaultPlanOptions{});
  std::vector<NodeView> view;
  for (uint32_t i = 1; i <= nodes; ++i) {
    view.push_back(NodeView{i, NodeView::State::kUp, i == 1});
  }
  std::vector<Fault> out;
  for (int s = 0; s < steps; ++s) {
    (void)p.nextDelay();
    std::vector<std::chrono::milliseconds> downFor(view.size(), std::chrono::milliseconds(10000));
    Fault f = p.next(view, downFor);
    out.push_back(f);
    // Apply it the way the cluster would.
    auto at = [&](uint32_t id) -> NodeView& { return view[id - 1]; };
    uint32_t leader = 0;
    for (auto& n : view) {
      leader = n.leader ? n.id : leader;
    }
    switch (f.kind) {
      case FaultKind::kKillLeader:
        at(leader).state = NodeView::State::kDown;
        at(leader).leader = false;
        break;
      case FaultKind::kKillReplica:
        at(f.node).state = NodeView::State::kDown;
        break;
      case FaultKind::kPause:
        at(f.node).state = NodeView::State::kPaused;
        at(f.node).leader = false;
        break;
      case FaultKind::kRestart:
      case FaultKind::kResume:
      case FaultKind::kHeal:
        if (f.node != 0) {
          at(f.node).state = NodeView::State::kUp;
        }
        break;
      case FaultKind::kPartition:
        at(f.node).state = NodeView::State::kCut;
        break;
    }
    // A new leader among the nodes up, if there is none.
    bool led = false;
    for (auto& n : view) {
      led = led || (n.leader && n.state == NodeView::State::kUp);
    }
    for (auto& n : view) {
      if (!led && n.state == NodeView::State::kUp) {
        n.leader = true;
        led = true;
      }
    }
    size_t faulty = 0;
    for (auto& n : view) {
      faulty += n.state == NodeView::State::kUp ? 0 : 1;
    }
    EXPECT_LE(faulty, (nodes - 1) / 2) << "step " << s << " took down a majority";
  }
  return out;
}

TEST(FaultPlannerTest, TheSameSeedGivesTheSameScheduleAndAMajorityStaysUp) {
  for (size_t nodes : {3u, 5u}) {
    auto a = plan(12345, nodes, 500);
    auto b = plan(12345, nodes, 500);
    ASSERT_EQ(a.size(), b.size());
    int kills = 0;
    int pauses = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].kind, b[i].kind) << i;
      EXPECT_EQ(a[i].node, b[i].node) << i;
      kills += a[i].kind == FaultKind::kKillLeader || a[i].kind == FaultKind::kKillReplica;
      pauses += a[i].kind == FaultKind::kPause;
    }
    EXPECT_GT(kills, 100) << "the schedule is mostly faults, not only repairs";
    EXPECT_GT(pauses, 20);
    auto c = plan(54321, nodes, 500);
    bool differs = false;
    for (size_t i = 0; i < a.size() && !differs; ++i) {
      differs = a[i].kind != c[i].kind || a[i].node != c[i].node;
    }
    EXPECT_TRUE(differs) << "another seed, another schedule";
  }
}

}  // namespace
}  // namespace chat::chaos
