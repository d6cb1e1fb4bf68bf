// TLS on the client port of a real chat-node, with a CA made at test time: a client that
// trusts the CA chats; one with the wrong CA, the wrong name, or no TLS at all is refused;
// line mode works through `openssl s_client`; chat-bench and the cluster client verify too.

#include <gtest/gtest.h>

#include "chat/client/cluster_client.h"
#include "chat/client/connection.h"
#include "chat/tls/tls_stream.h"
#include "chat/replication/socket_peer_transport.h"
#include "support/node_process.h"
#include "support/process_cluster.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/test_ca.h"
#include "support/tmux_session.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using client::Connection;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.ok()) << ca_.error();
    node_ = std::make_unique<testing::NodeProcess>(
        dir_.file("node"), std::vector<std::string>{"--tls-cert", ca_.certificateFile(),
                                                    "--tls-key", ca_.keyFile()});
    ASSERT_TRUE(node_->start());
    auto trusted = tls::TlsContext::client({ca_.caFile()});
    ASSERT_TRUE(trusted.has_value()) << trusted.error().toString();
    trusted_ = *trusted;
  }

  testing::TestCa ca_;
  testing::TempDir dir_;
  std::unique_ptr<testing::NodeProcess> node_;
  std::shared_ptr<tls::TlsContext> trusted_;
};

TEST_F(TlsTest, AClientThatTrustsTheCaChatsOverTls) {
  auto c = Connection::connect(node_->address(), 5000ms, {}, trusted_.get());
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  auto& alice = **c;
  ASSERT_TRUE(alice.call(protocol::CreateRequest{"alice", "pw"}, 10s)->isOk());
  ASSERT_TRUE(alice.call(protocol::CreateRequest{"bob", "pw"}, 10s)->isOk());
  ASSERT_TRUE(alice.call(protocol::LoginRequest{"alice", "pw"}, 10s)->isOk());
  // Bigger than one TLS record, so reads and writes span several.
  std::string body(3000, 'x');
  for (int i = 0; i < 20; ++i) {
    auto r = alice.call(protocol::SendRequest{"bob", body + std::to_string(i)}, 10s);
    ASSERT_TRUE(r.has_value() && r->isOk()) << (r ? r->error : r.error().toString());
  }
  auto history = alice.call(protocol::HistoryRequest{"bob", 0, 50}, 10s);
  ASSERT_TRUE(history.has_value() && history->isOk());
  EXPECT_EQ(std::get<protocol::HistoryReply>(history->body).messages.size(), 20u);

  // The cluster client (chat-tui's and chat-bench's) too: bob logs in and gets them pushed.
  client::ClusterClientOptions o;
  o.servers = {node_->address()};
  o.tls = trusted_;
  client::ClusterClient bob(o);
  auto login = bob.call(protocol::LoginRequest{"bob", "pw"}, 10s);
  ASSERT_TRUE(login.has_value() && login->isOk());
  auto delivered = bob.call(protocol::DeliverRequest{0, "", ""}, 10s);
  ASSERT_TRUE(delivered.has_value() && delivered->isOk());
  EXPECT_EQ(std::get<protocol::DeliverReply>(delivered->body).messages.size(), 20u);
}

TEST_F(TlsTest, TheWrongCaTheWrongNameAndPlainClientsAreRefused) {
  auto impostorCa = tls::TlsContext::client({ca_.otherCaFile()});
  ASSERT_TRUE(impostorCa.has_value());
  auto wrongCa = Connection::connect(node_->address(), 5000ms, {}, impostorCa->get());
  ASSERT_FALSE(wrongCa.has_value());
  EXPECT_EQ(wrongCa.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(wrongCa.error().message().find("certificate did not verify"), std::string::npos)
      << wrongCa.error().message();

  // The certificate names 127.0.0.1 only; "localhost" is another name.
  auto wrongName = Connection::connect("localhost:" + std::to_string(node_->port()), 5000ms, {},
                                       trusted_.get());
  ASSERT_FALSE(wrongName.has_value());
  EXPECT_NE(wrongName.error().message().find("did not verify"), std::string::npos)
      << wrongName.error().message();

  // A client in the clear is told to use TLS, in its own mode, and closed.
  auto plain = Connection::connect(node_->address(), 5000ms);
  ASSERT_TRUE(plain.has_value());
  auto r = (*plain)->call(protocol::PingRequest{1}, 3s);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("refused the connection: this port speaks TLS only"),
            std::string::npos)
      << r.error().message();
  auto nc = testing::runCommand("(printf '1 6\\n'; sleep 0.3) | nc -q1 127.0.0.1 " +
                                std::to_string(node_->port()));
  EXPECT_NE(nc.output.find("ERROR 17: this port speaks TLS only; connect with TLS"),
            std::string::npos)
      << nc.output;

  // A CA file that is not there is refused at once, naming the file.
  auto missing = tls::TlsContext::client({dir_.file("nope.pem")});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("nope.pem"), std::string::npos);
}

TEST_F(TlsTest, LineModeWorksThroughOpensslSClient) {
  auto r = testing::runCommand("(printf '1 6\\n'; sleep 0.5) | timeout 2 openssl s_client -quiet "
                               "-verify_return_error -CAfile " +
                               ca_.caFile() + " -connect " + node_->address());
  EXPECT_NE(r.output.find("verify return:1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("login"), std::string::npos) << "no help text over TLS:\n" << r.output;
  auto refused = testing::runCommand("(printf '1 6\\n'; sleep 1) | timeout 5 openssl s_client "
                                     "-quiet -verify_return_error -CAfile " +
                                     ca_.otherCaFile() + " -connect " + node_->address());
  EXPECT_EQ(refused.output.find("login"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("verify error"), std::string::npos) << refused.output;
}

TEST_F(TlsTest, ChatTuiSignsUpOverTlsAndNamesAWrongCaOnScreen) {
  testing::TmuxSession dana(std::string(CHAT_TUI_BINARY) + " --no-bell --servers " +
                                node_->address() + " --tls-ca " + ca_.caFile(),
                            80, 24);
  ASSERT_TRUE(dana.waitFor("Enter logs in", 10s)) << dana.screen();
  dana.sendKeys("F5");
  ASSERT_TRUE(dana.waitFor("create an account", 5s)) << dana.screen();
  dana.type("dana");
  dana.sendKeys("Tab");
  dana.type("dana-password");
  dana.sendKeys("Enter");
  EXPECT_TRUE(dana.waitFor("logged in as dana", 10s)) << dana.screen();

  testing::TmuxSession eve(std::string(CHAT_TUI_BINARY) + " --no-bell --servers " +
                               node_->address() + " --tls-ca " + ca_.otherCaFile(),
                           80, 24);
  EXPECT_TRUE(eve.waitFor("did not verify", 10s)) << eve.screen();
}

TEST_F(TlsTest, ChatBenchChecksTheCaToo) {
  std::string bench = std::string(CHAT_BENCH_BINARY) + " --servers " + node_->address() +
                      " --pairs 2 --messages 50 --tls-ca ";
  auto ok = testing::runCommand(bench + ca_.caFile());
  EXPECT_EQ(ok.exitCode, 0) << ok.output;
  auto refused = testing::runCommand(bench + ca_.otherCaFile());
  EXPECT_NE(refused.exitCode, 0) << refused.output;
  EXPECT_NE(refused.output.find("did not verify"), std::string::npos) << refused.output;
  // Without TLS it is told at once, not after a minute of retrying.
  auto start = std::chrono::steady_clock::now();
  auto plain = testing::runCommand(std::string(CHAT_BENCH_BINARY) + " --servers " +
                                   node_->address() + " --pairs 2 --messages 50");
  EXPECT_NE(plain.exitCode, 0);
  EXPECT_NE(plain.output.find("this port speaks TLS only"), std::string::npos) << plain.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

TEST(TlsClusterTest, ReplicationAndFailoverRunOverTlsAndThePeerPortRefusesTheClear) {
  testing::TestCa ca;
  ASSERT_TRUE(ca.ok()) << ca.error();
  testing::ClusterTimings t;
  t.tlsCa = ca.caFile();
  t.tlsCert = ca.certificateFile();
  t.tlsKey = ca.keyFile();
  testing::ProcessCluster cluster(3, t);
  ASSERT_TRUE(cluster.startAll());
  size_t leader = cluster.waitForLeader();
  ASSERT_NE(leader, 0u) << "no leader: the nodes could not reach each other over TLS";
  auto trusted = tls::TlsContext::client({ca.caFile()}).value();

  client::ClusterClientOptions o;
  o.servers = cluster.addresses();
  o.tls = trusted;
  client::ClusterClient alice(o);
  ASSERT_TRUE(alice.call(protocol::CreateRequest{"alice", "pw"}, 10s)->isOk());
  ASSERT_TRUE(alice.call(protocol::CreateRequest{"bob", "pw"}, 10s)->isOk());
  ASSERT_TRUE(alice.call(protocol::LoginRequest{"alice", "pw"}, 10s)->isOk());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(alice.call(protocol::SendRequest{"bob", "before " + std::to_string(i)}, 10s)
                    ->isOk());
  }
  cluster.node(leader).kill(SIGKILL);
  std::vector<size_t> rest = cluster.othersThan(leader);
  ASSERT_NE(cluster.waitForLeader(rest), 0u) << "no new leader over TLS";
  for (int i = 0; i < 10; ++i) {
    auto r = alice.call(protocol::SendRequest{"bob", "after " + std::to_string(i)}, 20s);
    ASSERT_TRUE(r.has_value() && r->isOk());
  }
  client::ClusterClient bob(o);
  ASSERT_TRUE(bob.call(protocol::LoginRequest{"bob", "pw"}, 10s)->isOk());
  auto delivered = bob.call(protocol::DeliverRequest{0, "", ""}, 10s);
  ASSERT_TRUE(delivered.has_value() && delivered->isOk());
  EXPECT_EQ(std::get<protocol::DeliverReply>(delivered->body).messages.size(), 20u);

  // The peer port: an operator with the secret and the CA is heard; without TLS it is not.
  std::string peer = "127.0.0.1:" + std::to_string(cluster.peerPort(rest.front()));
  EXPECT_TRUE(replication::askToCampaign(peer, cluster.secret(), 2000ms,
                                         trusted.get())
                  .isOk());
  EXPECT_FALSE(replication::askToCampaign(peer, cluster.secret(), 1000ms).isOk());

  // chat-supervisor watching the cluster reads tls_ca from the cluster file.
  testing::TempDir run;
  auto watched = testing::runCommand("timeout 3 " + std::string(CHAT_SUPERVISOR_BINARY) +
                                     " --watch --headless --cluster " + cluster.clusterFile() +
                                     " --run-dir " + run.file("run"));
  EXPECT_NE(watched.output.find("leader is node"), std::string::npos) << watched.output;
}

TEST(TlsSettingsTest, BadCertificatesStopTheNodeAtStartWithTheReason) {
  testing::TestCa ca;
  ASSERT_TRUE(ca.ok()) << ca.error();
  testing::TempDir dir;
  std::string node = std::string(CHAT_NODE_BINARY) + " --port 0 --data-dir " + dir.file("n");
  auto missing = testing::runCommand(node + " --tls-cert " + dir.file("none.pem") +
                                     " --tls-key " + ca.keyFile());
  EXPECT_EQ(missing.exitCode, 78) << missing.output;
  EXPECT_NE(missing.output.find("none.pem"), std::string::npos) << missing.output;
  auto mismatch = testing::runCommand(node + " --tls-cert " + ca.certificateFile() +
                                      " --tls-key " + ca.otherKeyFile());
  EXPECT_EQ(mismatch.exitCode, 78) << mismatch.output;
  EXPECT_NE(mismatch.output.find("does not belong"), std::string::npos) << mismatch.output;
  auto half = testing::runCommand(node + " --tls-cert " + ca.certificateFile());
  EXPECT_EQ(half.exitCode, 78) << half.output;
}

}  // namespace
}  // namespace chat
