// chat-supervisor as a process, headless, against a real three-node cluster: it brings the
// nodes up, `ctl kill leader` gets a new leader at once and the event log says so, the
// restart policy backs off and gives up, a kill that would lose the majority asks for
// confirmation, and SIGKILL of the supervisor leaves no node behind.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "chat/replication/socket_peer_transport.h"
#include "support/eventually.h"
#include "support/json_object.h"
#include "support/process_cluster.h"
#include "support/run_command.h"
#include "support/tmux_session.h"

extern char** environ;

namespace chat {
namespace {

using namespace std::chrono_literals;

using testing::CommandResult;
using testing::runCommand;

// A headless supervisor with its stdout in a file.
class SupervisorProcess {
 public:
  SupervisorProcess(const std::string& clusterFile, const std::string& runDir,
                    std::vector<std::string> extra = {})
      : runDir_(runDir) {
    std::vector<std::string> args = {CHAT_SUPERVISOR_BINARY,
                                     "--headless",
                                     "--cluster",
                                     clusterFile,
                                     "--run-dir",
                                     runDir,
                                     "--node-binary",
                                     CHAT_NODE_BINARY,
                                     "--node-arg",
                                     "--password-hash",
                                     "--node-arg",
                                     "min",
                                     "--node-arg",
                                     "--sign-ups-per-minute",
                                     "--node-arg",
                                     "0",
                                     "--node-arg",
                                     "--sends-per-second",
                                     "--node-arg",
                                     "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::filesystem::create_directories(runDir);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string out = runDir + "/supervisor.out";
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~SupervisorProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  CommandResult ctl(const std::string& words) const {
    return runCommand(std::string(CHAT_SUPERVISOR_BINARY) + " ctl --run-dir " + runDir_ + " " +
                      words);
  }
  std::string events() const {
    std::ifstream in(runDir_ + "/supervisor.out");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // Waits until the event log contains `text`.
  bool waitForEvent(const std::string& text, std::chrono::milliseconds timeout) const {
    return testing::eventually([&] { return events().find(text) != std::string::npos; }, timeout);
  }
  void signal(int signo) {
    if (pid_ > 0) {
      ::kill(pid_, signo);
      if (signo == SIGKILL || signo == SIGTERM) {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        exitStatus_ = status;
        pid_ = -1;
      }
    }
  }
  int exitStatus() const { return exitStatus_; }
  bool started() const { return pid_ > 0; }

 private:
  std::string runDir_;
  pid_t pid_ = -1;
  int exitStatus_ = -1;
};

TEST(SupervisorProcessTest, BringsTheClusterUpAndKillLeaderFailsOverAtOnce) {
  testing::ProcessCluster cluster(3);  // its cluster file and folders; the supervisor starts it
  SupervisorProcess sup(cluster.clusterFile(), cluster.file("run"));
  ASSERT_TRUE(sup.started());
  ASSERT_TRUE(sup.waitForEvent("leader is node ", 20s)) << sup.events();
  // Node 1 stands first, but on a loaded machine its process may come up after node 2's
  // timeout: then node 2 leads. Whoever leads, killing it hands over to the next in line.
  std::string events = sup.events();
  int first = events[events.find("leader is node ") + 15] - '0';
  ASSERT_TRUE(first >= 1 && first <= 3) << events;
  std::string leader = std::to_string(first);
  std::string next = std::to_string(first % 3 + 1);
  auto status = sup.ctl("status");
  ASSERT_EQ(status.exitCode, 0) << status.output;
  for (const char* part : {"\n1 ", "\n2 ", "\n3 ", "leader", "follower", "running"}) {
    EXPECT_NE(status.output.find(part), std::string::npos) << part << "\n" << status.output;
  }
  auto json = testing::parseJsonObject(sup.ctl("status --json").output);
  EXPECT_EQ(json->getValue<int>("leader"), first);
  ASSERT_TRUE(json->getArray("nodes"));
  ASSERT_EQ(json->getArray("nodes")->size(), 3u);
  for (unsigned i = 0; i < 3; ++i) {
    auto node = json->getArray("nodes")->getObject(i);
    EXPECT_EQ(node->getValue<unsigned>("id"), i + 1);
    EXPECT_EQ(node->getValue<std::string>("state"), "running");
    EXPECT_GT(node->getValue<int>("pid"), 0);
  }

  auto killed = sup.ctl("kill leader");
  ASSERT_EQ(killed.exitCode, 0) << killed.output;
  EXPECT_EQ(killed.output, "killed node " + leader + " (SIGKILL)\n");  // it says what it did
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(cluster.waitForRole(static_cast<size_t>(first % 3 + 1), "leader", 5s));
  // The hint makes it far quicker than the election timeout (200 ms here) plus polling.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_TRUE(sup.waitForEvent("node " + leader + " died: signal 9 (SIGKILL)", 5s)) << sup.events();
  EXPECT_TRUE(sup.waitForEvent("asked node " + next + " to stand for election at once", 5s));
  EXPECT_TRUE(sup.waitForEvent("leader is node " + next, 5s)) << sup.events();
  // The restart policy brings the killed node back, and it catches up.
  EXPECT_TRUE(sup.waitForEvent("node " + leader + ": restart 1 of 5", 5s)) << sup.events();
  // Back, it catches up as a follower — or, on a loaded machine where the leader's
  // heartbeats come late, it may win the next election, caught up by then.
  bool back = testing::eventually(
      [&] {
        std::string e = sup.events();
        return e.find("node " + leader + " caught up") != std::string::npos ||
               e.find("leader is node " + leader + " (epoch 3") != std::string::npos;
      },
      20s);
  EXPECT_TRUE(back) << sup.events();

  auto stop = sup.ctl("stop");
  EXPECT_EQ(stop.exitCode, 0) << stop.output;
  EXPECT_TRUE(sup.waitForEvent("node 3 stopped (exit code 0)", 20s)) << sup.events();
}

// A fresh checkout has no cluster secret (it is never in git): the supervisor that runs every
// node itself makes one, private to its user, and the nodes start with it.
TEST(SupervisorProcessTest, MakesAMissingClusterSecretPrivateAndTheNodesUseIt) {
  testing::ProcessCluster cluster(3);
  std::string secretFile = cluster.clusterFile() + ".secret";
  ASSERT_EQ(::unlink(secretFile.c_str()), 0);
  SupervisorProcess sup(cluster.clusterFile(), cluster.file("run"));
  ASSERT_TRUE(sup.started());
  ASSERT_TRUE(sup.waitForEvent("made a new cluster secret in " + secretFile, 10s)) << sup.events();
  ASSERT_TRUE(sup.waitForEvent("leader is node ", 20s)) << sup.events();
  struct stat st {};
  ASSERT_EQ(::stat(secretFile.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(secretFile);
  std::string secret;
  std::getline(in, secret);
  EXPECT_EQ(secret.size(), 64u);
  // The nodes prove that secret to each other: an operator with it is heard.
  EXPECT_TRUE(
      replication::askToCampaign("127.0.0.1:" + std::to_string(cluster.peerPort(2)), secret, 2000ms)
          .isOk());
  auto stop = sup.ctl("stop");
  EXPECT_EQ(stop.exitCode, 0) << stop.output;
}

// The control socket kills, pauses and stops nodes: only the supervisor's user (and root)
// may use it, and its folder, the socket and the node logs are private.
TEST(SupervisorProcessTest, TheControlSocketAndRunFolderArePrivateToItsUser) {
  testing::ProcessCluster cluster(3);
  std::string runDir = cluster.file("run-private");
  SupervisorProcess sup(cluster.clusterFile(), runDir);
  ASSERT_TRUE(sup.started());
  ASSERT_TRUE(sup.waitForEvent("leader is node ", 20s)) << sup.events();
  struct stat st {};
  ASSERT_EQ(::stat(runDir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((runDir + "/control.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((runDir + "/node1.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  if (::geteuid() == 0) {
    // Another user, even past the file's mode (root could chmod it), is refused by its uid.
    ::chmod(std::filesystem::path(runDir).parent_path().c_str(), 0711);  // the test's folder
    ::chmod(runDir.c_str(), 0711);
    ::chmod((runDir + "/control.sock").c_str(), 0666);
    auto other = testing::runCommand("setpriv --reuid=65534 --regid=65534 --clear-groups " +
                                     std::string(CHAT_SUPERVISOR_BINARY) + " ctl --run-dir " +
                                     runDir + " kill 1");
    EXPECT_NE(other.exitCode, 0) << other.output;
    EXPECT_NE(other.output.find("only the user who runs chat-supervisor"), std::string::npos)
        << other.output;
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(cluster.status(1).has_value()) << "node 1 was killed by another user";
  }
  auto stop = sup.ctl("stop");
  EXPECT_EQ(stop.exitCode, 0) << stop.output;
}

TEST(SupervisorProcessTest, AKillThatWouldLoseTheMajorityAsksForConfirmation) {
  testing::ProcessCluster cluster(3);
  SupervisorProcess sup(cluster.clusterFile(), cluster.file("run"), {"--demo"});
  ASSERT_TRUE(sup.waitForEvent("leader is node ", 20s)) << sup.events();
  ASSERT_EQ(sup.ctl("kill 3").exitCode, 0);
  ASSERT_TRUE(sup.waitForEvent("node 3 stays down (demo mode)", 5s)) << sup.events();
  auto refused = sup.ctl("pause 2");
  EXPECT_EQ(refused.exitCode, 3) << refused.output;
  EXPECT_NE(refused.output.find("stops accepting messages, and loses none"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("--force"), std::string::npos) << refused.output;
  auto paused = sup.ctl("pause 2 --force");
  EXPECT_EQ(paused.exitCode, 0);
  EXPECT_EQ(paused.output, "paused node 2 (SIGSTOP)\n");
  EXPECT_EQ(sup.ctl("resume 2").exitCode, 0);
  EXPECT_EQ(sup.ctl("restart 3").exitCode, 0);
  // The leader alone stepped down while node 2 was paused (or was node 2); a new election and
  // the catch-up come after: generous, for sanitizer builds on a loaded machine.
  EXPECT_TRUE(sup.waitForEvent("node 3 caught up", 30s)) << sup.events();
  auto bad = sup.ctl("kill 9");
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.output.find("there is no node 9"), std::string::npos) << bad.output;
  sup.signal(SIGTERM);  // stops every node cleanly
  EXPECT_TRUE(WIFEXITED(sup.exitStatus()) && WEXITSTATUS(sup.exitStatus()) == 0);
  EXPECT_FALSE(cluster.status(1).has_value());
}

TEST(SupervisorProcessTest, ANodeThatKeepsFailingIsGivenUpAfterBackoff) {
  testing::ProcessCluster cluster(3);
  // A "node" that exits at once with an error.
  SupervisorProcess sup(cluster.clusterFile(), cluster.file("run"),
                        {"--node-binary", "/bin/false", "--max-restarts", "2"});
  ASSERT_TRUE(sup.waitForEvent("node 1: restart 1 of 2 within 60 s, in 100 ms", 5s))
      << sup.events();
  EXPECT_TRUE(sup.waitForEvent("node 1: restart 2 of 2 within 60 s, in 200 ms", 5s))
      << sup.events();
  EXPECT_TRUE(sup.waitForEvent("node 1: gave up: 2 restarts within 60 s", 5s)) << sup.events();
  auto status = sup.ctl("status");
  EXPECT_NE(status.output.find("given up"), std::string::npos) << status.output;
  EXPECT_NE(sup.events().find("before it came up"), std::string::npos) << sup.events();
  EXPECT_NE(status.output.find("exit code 1"), std::string::npos) << status.output;
}

TEST(SupervisorProcessTest, SigkillOfTheSupervisorLeavesNoNodeRunning) {
  testing::ProcessCluster cluster(3);
  SupervisorProcess sup(cluster.clusterFile(), cluster.file("run"));
  ASSERT_TRUE(sup.waitForEvent("leader is node ", 20s)) << sup.events();
  ASSERT_TRUE(cluster.status(1).has_value());
  sup.signal(SIGKILL);
  bool allDown = testing::eventually(
      [&] {
        for (size_t id = 1; id <= 3; ++id) {
          if (cluster.status(id).has_value()) {
            return false;
          }
        }
        return true;
      },
      10s, 50ms);
  EXPECT_TRUE(allDown) << "a node outlived its supervisor";
}

TEST(SupervisorViewTest, TheScreenShowsTheClusterAndTheKillLeaderKeyChangesRoles) {
  testing::ProcessCluster cluster(3);
  std::string command = std::string(CHAT_SUPERVISOR_BINARY) + " --cluster " +
                        cluster.clusterFile() + " --run-dir " + cluster.file("run") +
                        " --node-binary " + CHAT_NODE_BINARY +
                        " --node-arg --password-hash --node-arg min";
  testing::TmuxSession tmux(command, 110, 30);
  ASSERT_TRUE(tmux.waitFor("leader: node ", 20s)) << tmux.screen();
  ASSERT_TRUE(tmux.waitFor("running 3/3", 10s)) << tmux.screen();
  std::string screen = tmux.screen();
  for (const char* part : {"node pid", "leader", "follower", "k kill leader", "events",
                           "Open a client in another terminal: chat-tui --cluster "}) {
    EXPECT_NE(screen.find(part), std::string::npos) << part << "\n" << screen;
  }
  // Node 1 stands first, but on a loaded machine its process may come up after node 2's
  // timeout: then node 2 leads. Whoever leads, k hands over to the next in line.
  size_t at = screen.find("leader: node ");
  ASSERT_NE(at, std::string::npos);
  int first = screen[at + 13] - '0';
  ASSERT_TRUE(first >= 1 && first <= 3) << screen;
  std::string next = std::to_string(first % 3 + 1);
  tmux.sendKeys("k");
  EXPECT_TRUE(tmux.waitFor("kill leader: killed node " + std::to_string(first) + " (SIGKILL)", 5s))
      << tmux.screen();
  EXPECT_TRUE(tmux.waitFor("leader: node " + next, 5s)) << tmux.screen();
  EXPECT_TRUE(tmux.waitFor("signal 9 (SIGKILL)", 5s)) << tmux.screen();
  EXPECT_TRUE(tmux.waitFor("asked node " + next + " to stand for election", 5s)) << tmux.screen();
  // Select node 3 and pause it, then node 1 (back by now) and kill it: that would leave one
  // node of three serving, so the view asks first; n cancels.
  ASSERT_TRUE(tmux.waitFor("running 3/3", 10s)) << tmux.screen();
  tmux.sendKeys("3 p");
  EXPECT_TRUE(tmux.waitFor("paused", 5s)) << tmux.screen();
  tmux.sendKeys("1 x");
  EXPECT_TRUE(tmux.waitFor("y to confirm", 5s)) << tmux.screen();
  tmux.sendKeys("n");
  EXPECT_TRUE(tmux.waitFor("cancelled", 5s)) << tmux.screen();
  tmux.sendKeys("3 c");
  // A small terminal still draws; a tiny one says so.
  tmux.resize(64, 12);
  EXPECT_TRUE(tmux.waitFor("chat-supervisor", 5s)) << tmux.screen();
  tmux.resize(40, 8);
  EXPECT_TRUE(tmux.waitFor("terminal too small", 5s)) << tmux.screen();
  tmux.resize(100, 30);
  tmux.sendKeys("q");
  EXPECT_TRUE(testing::eventually([&] { return !tmux.alive(); }, 15s, 50ms)) << "q did not quit";
  EXPECT_FALSE(cluster.status(1).has_value()) << "quitting must stop every node";
}

TEST(SupervisorProcessTest, DetachedNodesOutliveTheSupervisor) {
  testing::ProcessCluster cluster(3);
  SupervisorProcess sup(cluster.clusterFile(), cluster.file("run"), {"--detach"});
  ASSERT_TRUE(sup.waitForEvent("leader is node ", 20s)) << sup.events();
  sup.signal(SIGKILL);
  std::this_thread::sleep_for(500ms);
  for (size_t id = 1; id <= 3; ++id) {
    EXPECT_TRUE(cluster.status(id).has_value()) << "node " << id << " died with --detach";
  }
  // Clean up by hand what the supervisor left on purpose.
  runCommand("pkill -KILL -f -- '--cluster " + cluster.clusterFile() + "'");
  EXPECT_TRUE(testing::eventually([&] { return !cluster.status(1).has_value(); }, 5s, 50ms));
}

TEST(SupervisorProcessTest, WatchModeFollowsNodesItDidNotStartAndLeavesThemRunning) {
  // The nodes run on their own, as under systemd on other hosts; the supervisor only watches.
  testing::ProcessCluster cluster(3);
  ASSERT_TRUE(cluster.startAll());
  size_t leader = cluster.waitForLeader();
  ASSERT_NE(leader, 0u);
  SupervisorProcess sup(cluster.clusterFile(), cluster.file("run"), {"--watch"});
  ASSERT_TRUE(sup.waitForEvent("watching 3 nodes that run elsewhere", 10s)) << sup.events();
  ASSERT_TRUE(sup.waitForEvent("leader is node " + std::to_string(leader), 10s)) << sup.events();
  EXPECT_EQ(sup.events().find("started (pid"), std::string::npos) << sup.events();
  auto status = sup.ctl("status");
  ASSERT_EQ(status.exitCode, 0) << status.output;
  for (const char* part : {"remote", "running", "leader", "follower"}) {
    EXPECT_NE(status.output.find(part), std::string::npos) << part << "\n" << status.output;
  }
  size_t other = leader == 1 ? 2 : 1;
  auto refused = sup.ctl("kill " + std::to_string(other));
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_NE(refused.output.find("runs elsewhere; this supervisor only watches it"),
            std::string::npos)
      << refused.output;

  // The leader dies where it runs: the supervisor sees it fall silent and hurries the next.
  cluster.node(leader).kill(SIGKILL);
  EXPECT_TRUE(sup.waitForEvent("node " + std::to_string(leader) + " stopped answering", 10s))
      << sup.events();
  EXPECT_TRUE(sup.waitForEvent("the leader is gone: asked node", 10s)) << sup.events();
  std::vector<size_t> rest = cluster.othersThan(leader);
  size_t next = cluster.waitForLeader(rest);
  ASSERT_NE(next, 0u);
  EXPECT_TRUE(sup.waitForEvent("leader is node " + std::to_string(next), 10s)) << sup.events();
  EXPECT_NE(sup.ctl("status").output.find("unreachable"), std::string::npos);

  // Back where it runs, it is seen again; stopping the supervisor stops no node.
  ASSERT_TRUE(cluster.node(leader).start());
  EXPECT_TRUE(sup.waitForEvent("node " + std::to_string(leader) + " answers again", 10s))
      << sup.events();
  EXPECT_EQ(sup.ctl("stop").exitCode, 0);
  sup.signal(SIGTERM);
  EXPECT_EQ(sup.exitStatus(), 0);
  for (size_t id = 1; id <= 3; ++id) {
    EXPECT_TRUE(cluster.status(id).has_value()) << "node " << id << " was stopped";
  }
}

TEST(SupervisorProcessTest, ANodeThatCannotStartIsReportedWithTheEndOfItsLog) {
  testing::ProcessCluster cluster(3);
  // Every node refuses this option: its log says so, and the supervisor repeats it.
  SupervisorProcess sup(cluster.clusterFile(), cluster.file("run"),
                        {"--node-arg", "--no-such-option", "--restart", "never"});
  ASSERT_TRUE(sup.waitForEvent("node 1 died: exit code", 10s)) << sup.events();
  EXPECT_TRUE(sup.waitForEvent("no-such-option", 5s)) << sup.events();
  EXPECT_TRUE(sup.waitForEvent("node 1 stays down (restart policy is never)", 5s)) << sup.events();
}

TEST(SupervisorProcessTest, BadOptionsAreRefusedClearly) {
  auto r = runCommand(std::string(CHAT_SUPERVISOR_BINARY) + " --cluster /nonexistent.ini");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.output.find("/nonexistent.ini"), std::string::npos) << r.output;
  r = runCommand(std::string(CHAT_SUPERVISOR_BINARY) + " --restart sometimes");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.output.find("never or on-failure"), std::string::npos) << r.output;
  r = runCommand(std::string(CHAT_SUPERVISOR_BINARY) + " ctl --run-dir /nonexistent status");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("no supervisor is listening"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace chat

namespace chat {
namespace {

// --name=value means --name value, in both modes; ctl refuses an option it does not know
// instead of sending it on to the default run folder as a word of the command.
TEST(SupervisorCommandLineTest, OptionsTakeBothFormsAndCtlNeverFallsBackToTheDefault) {
  const std::string bin = CHAT_SUPERVISOR_BINARY;
  for (const char* form :
       {" ctl --run-dir=/nonexistent/run status", " ctl --run-dir /nonexistent/run status"}) {
    auto r = testing::runCommand(bin + form);
    EXPECT_EQ(WEXITSTATUS(r.status), 1) << form << "\n" << r.output;
    EXPECT_NE(r.output.find("/nonexistent/run/control.sock"), std::string::npos) << form << "\n"
                                                                                 << r.output;
  }
  auto unknown = testing::runCommand(bin + " ctl --bogus status");
  EXPECT_EQ(WEXITSTATUS(unknown.status), 2) << unknown.output;
  EXPECT_NE(unknown.output.find("unknown option --bogus"), std::string::npos) << unknown.output;
  auto bare = testing::runCommand(bin + " ctl --run-dir");
  EXPECT_EQ(WEXITSTATUS(bare.status), 2) << bare.output;
  for (const char* form : {" --cluster=/nonexistent/c.ini", " --cluster /nonexistent/c.ini"}) {
    auto r = testing::runCommand(bin + form);
    EXPECT_EQ(WEXITSTATUS(r.status), 2) << form << "\n" << r.output;
    EXPECT_NE(r.output.find("/nonexistent/c.ini"), std::string::npos) << form << "\n" << r.output;
  }
}

// A port of the cluster file that something else holds stops the supervisor before any node
// starts, naming the port, its node, the process that holds it and what to do.
TEST(SupervisorCommandLineTest, ATakenPortIsNamedWithItsHolderBeforeAnyNodeStarts) {
  testing::ProcessCluster cluster(3);
  ASSERT_TRUE(cluster.node(2).start());  // a chat-node of an earlier start still runs
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // and this test holds another
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(cluster.peerPort(3));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  auto r = runCommand(std::string(CHAT_SUPERVISOR_BINARY) + " --headless --cluster " +
                      cluster.clusterFile() + " --run-dir " + cluster.file("run") +
                      " --node-binary " + CHAT_NODE_BINARY);
  ::close(fd);
  EXPECT_EQ(r.exitCode, 2) << r.output;
  std::string client2 = cluster.address(2).substr(cluster.address(2).rfind(':') + 1);
  EXPECT_NE(r.output.find("port " + client2 + " on 127.0.0.1 (node 2's client port in " +
                          cluster.clusterFile() + ") is taken by process " +
                          std::to_string(cluster.node(2).pid()) + " (chat-node)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("(node 2's peer port in"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("port " + std::to_string(cluster.peerPort(3)) +
                          " on 127.0.0.1 (node 3's peer port in " + cluster.clusterFile() +
                          ") is taken by process " + std::to_string(::getpid())),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("node 1's"), std::string::npos) << "node 1's ports are free\n"
                                                          << r.output;
  EXPECT_NE(r.output.find("A chat-node still runs there"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No node was started."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--cluster YOUR-COPY"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(cluster.dataDir(1))) << "node 1 was started";
}

}  // namespace
}  // namespace chat
