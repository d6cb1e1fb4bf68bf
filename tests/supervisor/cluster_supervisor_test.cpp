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

}  // namespace
}  // namespace chat::supervisor
