// tools/demo end to end: the supervisor and two logged-in chat-tui clients in one tmux
// session, the first message already sent; --stop ends it all.
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "support/eventually.h"
#include "support/process_cluster.h"
#include "support/run_command.h"

namespace chat {
namespace {

using namespace std::chrono_literals;

TEST(DemoTest, OneCommandStartsTheSupervisorAndTwoClientsAndStopCleansUp) {
  testing::ProcessCluster cluster(3);  // for its cluster file and folders; demo starts the nodes
  std::string name = "demo-test-" + std::to_string(::getpid());
  std::string tmux = "tmux -L " + name + " ";
  // The programs of this build, not whatever tools/demo would build into build/.
  std::string demo = "CHAT_BUILD_DIR=" + std::string(CHAT_BUILD_DIR) + " " +
                     std::string(CHAT_SOURCE_DIR) + "/tools/demo --cluster " +
                     cluster.clusterFile() + " --run-dir " + cluster.file("run") + " --session " +
                     name + " --socket " + name;
  auto started = testing::runCommand(demo + " --no-attach");
  ASSERT_EQ(started.exitCode, 0) << started.output;
  auto pane = [&](int i) {
    return testing::runCommand(tmux + "capture-pane -p -t " + name + ":0." + std::to_string(i))
        .output;
  };
  auto waitFor = [&](int i, const std::string& text) {
    return testing::eventually([&] { return pane(i).find(text) != std::string::npos; }, 15s, 100ms);
  };
  EXPECT_TRUE(waitFor(0, "running 3/3")) << pane(0);
  EXPECT_TRUE(waitFor(0, "leader: node")) << pane(0);
  EXPECT_TRUE(waitFor(1, " alice │")) << pane(1);
  EXPECT_TRUE(waitFor(2, " bob │")) << pane(2);
  EXPECT_TRUE(waitFor(2, "alice: hi bob!")) << pane(2);
  auto stopped = testing::runCommand(demo + " --stop");
  EXPECT_EQ(stopped.exitCode, 0) << stopped.output;
  EXPECT_NE(testing::runCommand(tmux + "has-session -t " + name).exitCode, 0)
      << "the session is still there";
  EXPECT_TRUE(testing::eventually([&] { return !cluster.status(1).has_value(); }, 10s, 100ms))
      << "a node outlived the demo";
  testing::runCommand(tmux + "kill-server");
}

}  // namespace
}  // namespace chat
