#include "chat/supervisor/cluster_supervisor.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace chat::supervisor {
namespace {

using namespace std::chrono_literals;

protocol::NodeStatus statusOf(const std::string& role, uint64_t epoch, uint64_t commit) {
  protocol::NodeStatus s;
  s.role = role;
  s.epoch = epoch;
  s.commitIndex = commit;
  s.appliedIndex = commit;
  return s;
}

class ClusterSupervisorTest : public ::testing::Test {
 protected:
  ClusterSupervisorTest() : sup_(options()) {}
  static SupervisorOptions options() {
    SupervisorOptions o;
    o.nodes = {1, 2, 3};
    o.restart.intensity = 2;
    o.restart.period = 60s;
    return o;
  }
  void upWithLeader1() {
    EXPECT_EQ(sup_.start(t_).size(), 3u);
    for (uint32_t id : {1u, 2u, 3u}) {
      sup_.spawned(id, static_cast<pid_t>(100 + id), t_);
    }
    sup_.polled(1, statusOf("leader", 1, 10), t_);
    sup_.polled(2, statusOf("follower", 1, 10), t_);
    sup_.polled(3, statusOf("follower", 1, 10), t_);
  }
  bool hasEvent(const std::string& part) {
    for (const auto& e : sup_.recentEvents()) {
      if (e.text.find(part) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  MonoTime t_{};
  ClusterSupervisor sup_;
};

TEST_F(ClusterSupervisorTest, TracksRolesAndTheLeader) {
  upWithLeader1();
  EXPECT_EQ(sup_.leader(), 1u);
  EXPECT_EQ(sup_.row(2)->state, NodeState::kRunning);
  EXPECT_TRUE(hasEvent("leader is node 1 (epoch 1)"));
  sup_.polled(2, statusOf("follower", 1, 4), t_);
  EXPECT_EQ(sup_.row(2)->lag, 6u);
}

TEST_F(ClusterSupervisorTest, WhenTheLeaderDiesTheNextInLineIsAskedToStandAndItRestarts) {
  upWithLeader1();
  auto actions = sup_.exited(1, "signal 9 (SIGKILL)", t_);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(std::get<AskToCampaign>(actions[0]).id, 2u);
  EXPECT_TRUE(hasEvent("node 1 died: signal 9 (SIGKILL)"));
  EXPECT_EQ(sup_.leader(), 0u);
  EXPECT_TRUE(sup_.tick(t_ + 50ms).empty()) << "restarted before its backoff";
  auto restart = sup_.tick(t_ + 150ms);
  ASSERT_EQ(restart.size(), 1u);
  EXPECT_EQ(std::get<SpawnNode>(restart[0]).id, 1u);
  EXPECT_EQ(sup_.row(1)->restarts, 1);
}

TEST_F(ClusterSupervisorTest, ANodeThatKeepsDyingIsGivenUp) {
  upWithLeader1();
  for (int i = 0; i < 2; ++i) {
    sup_.exited(3, "exit code 1", t_);
    t_ += 10s;
    ASSERT_EQ(sup_.tick(t_).size(), 1u);
    sup_.spawned(3, 200 + i, t_);
  }
  sup_.exited(3, "exit code 1", t_);
  EXPECT_EQ(sup_.row(3)->state, NodeState::kGivenUp);
  EXPECT_TRUE(hasEvent("gave up"));
  EXPECT_TRUE(sup_.tick(t_ + 60s).empty());
  // By hand it starts again, with a clean slate.
  auto again = sup_.restart(3, t_);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(std::get<SpawnNode>((*again)[0]).id, 3u);
}

TEST_F(ClusterSupervisorTest, KillsThatWouldLoseTheMajorityNeedConfirmation) {
  upWithLeader1();
  ASSERT_TRUE(sup_.kill(3, false, t_).has_value());
  sup_.exited(3, "signal 9 (SIGKILL)", t_);
  auto refused = sup_.pause(2, false, t_);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kAborted);
  EXPECT_NE(refused.error().message().find("stops accepting messages, and loses none"),
            std::string::npos)
      << refused.error().message();
  auto forced = sup_.pause(2, true, t_);
  ASSERT_TRUE(forced.has_value());
  EXPECT_EQ(std::get<SignalNode>((*forced)[0]).signo, SIGSTOP);
  EXPECT_TRUE(sup_.resume(2, t_).has_value());
  EXPECT_FALSE(sup_.kill(9, false, t_).has_value());
  EXPECT_FALSE(sup_.resume(1, t_).has_value()) << "node 1 is not paused";
}

TEST_F(ClusterSupervisorTest, ANodeCanHaveARestartPolicyOfItsOwn) {
  SupervisorOptions o = options();
  o.restartModes[3] = RestartSettings::Mode::kNever;
  ClusterSupervisor sup(o);
  sup.start(t_);
  sup.spawned(2, 102, t_);
  sup.spawned(3, 103, t_);
  sup.exited(2, "exit code 1", t_);
  sup.exited(3, "exit code 1", t_);
  auto restarts = sup.tick(t_ + 1s);
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_EQ(std::get<SpawnNode>(restarts[0]).id, 2u);
  EXPECT_EQ(sup.row(3)->state, NodeState::kDown);
}

TEST_F(ClusterSupervisorTest, DemoModeKeepsKilledNodesDown) {
  SupervisorOptions o = options();
  o.demo = true;
  ClusterSupervisor demo(o);
  demo.start(t_);
  demo.spawned(1, 101, t_);
  demo.exited(1, "signal 9 (SIGKILL)", t_);
  EXPECT_TRUE(demo.tick(t_ + 1h).empty());
  EXPECT_EQ(demo.row(1)->state, NodeState::kDown);
}

TEST_F(ClusterSupervisorTest, StoppingSendsSigtermAndRestartsNothing) {
  upWithLeader1();
  ASSERT_TRUE(sup_.pause(3, false, t_).has_value());
  auto stop = sup_.stopAll(t_);
  size_t terms = 0;
  size_t conts = 0;
  for (const auto& a : stop) {
    terms += std::get<SignalNode>(a).signo == SIGTERM ? 1U : 0U;
    conts += std::get<SignalNode>(a).signo == SIGCONT ? 1U : 0U;
  }
  EXPECT_EQ(terms, 3u);
  EXPECT_EQ(conts, 1u) << "a paused node must be woken to handle SIGTERM";
  for (uint32_t id : {1u, 2u, 3u}) {
    EXPECT_TRUE(sup_.exited(id, "exit code 0", t_).empty());
  }
  EXPECT_TRUE(sup_.allDown());
  EXPECT_TRUE(sup_.tick(t_ + 1h).empty());
}

TEST_F(ClusterSupervisorTest, RestartStopsARunningNodeAndStartsItWhenItExits) {
  upWithLeader1();
  auto r = sup_.restart(2, t_);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<SignalNode>((*r)[0]).signo, SIGTERM);
  auto after = sup_.exited(2, "exit code 0", t_);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(std::get<SpawnNode>(after[0]).id, 2u);
}

TEST(WatchedNodesTest, AreNeverSpawnedOrSignalledAndTheirLeaderIsReplacedWhenItFallsSilent) {
  SupervisorOptions o;
  o.nodes = {1, 2, 3};
  o.watched = {1, 2, 3};
  ClusterSupervisor sup(o);
  MonoTime t{};
  EXPECT_TRUE(sup.start(t).empty()) << "a watched node is not started from here";
  EXPECT_EQ(sup.row(1)->state, NodeState::kStarting);
  EXPECT_TRUE(sup.polled(1, statusOf("leader", 2, 10), t).empty());
  EXPECT_TRUE(sup.polled(2, statusOf("follower", 2, 10), t).empty());
  sup.polled(3, std::nullopt, t);
  EXPECT_EQ(sup.row(1)->state, NodeState::kRunning);
  EXPECT_EQ(sup.row(3)->state, NodeState::kUnreachable);
  EXPECT_EQ(sup.leader(), 1u);
  sup.polled(3, statusOf("follower", 2, 10), t);
  EXPECT_EQ(sup.row(3)->state, NodeState::kRunning);

  // Commands that need the process are refused with what to do instead.
  for (auto r : {sup.kill(2, false, t), sup.pause(2, false, t), sup.resume(2, t),
                 sup.restart(2, t), sup.killLeader(false, t)}) {
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("runs elsewhere; this supervisor only watches it"),
              std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().message().find("systemctl"), std::string::npos);
  }
  EXPECT_TRUE(sup.restartAll(t)->empty());

  // The leader falls silent: the next in line is asked to stand, over the network.
  auto actions = sup.polled(1, std::nullopt, t);
  ASSERT_EQ(actions.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<AskToCampaign>(actions[0]));
  EXPECT_EQ(std::get<AskToCampaign>(actions[0]).id, 2u);
  EXPECT_EQ(sup.row(1)->state, NodeState::kUnreachable);
  EXPECT_EQ(sup.leader(), 0u);
  sup.polled(2, statusOf("leader", 3, 12), t);
  EXPECT_EQ(sup.leader(), 2u);
  // It comes back as a follower.
  sup.polled(1, statusOf("follower", 3, 12), t);
  EXPECT_EQ(sup.row(1)->state, NodeState::kRunning);
  EXPECT_TRUE(sup.stopAll(t).empty()) << "quitting stops nothing that runs elsewhere";
  EXPECT_TRUE(sup.allDown());
}

TEST(WatchedNodesTest, AMixedClusterCountsWatchedNodesTowardsTheMajority) {
  SupervisorOptions o;
  o.nodes = {1, 2, 3};
  o.watched = {3};
  ClusterSupervisor sup(o);
  MonoTime t{};
  auto spawns = sup.start(t);
  ASSERT_EQ(spawns.size(), 2u);
  sup.spawned(1, 101, t);
  sup.spawned(2, 102, t);
  sup.polled(1, statusOf("leader", 1, 5), t);
  sup.polled(2, statusOf("follower", 1, 5), t);
  sup.polled(3, statusOf("follower", 1, 5), t);
  // Killing node 1 leaves 2 and the watched 3: a majority, no confirmation needed.
  EXPECT_TRUE(sup.kill(1, false, t).has_value());
  sup.polled(3, std::nullopt, t);
  // Now killing node 2 would leave only node 1 serving.
  auto r = sup.kill(2, false, t);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kAborted);
}

}  // namespace
}  // namespace chat::supervisor
