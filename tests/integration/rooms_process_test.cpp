// Rooms with real chat-node processes: every room operation in line mode (nc/telnet users),
// and a 20-member room on a 3-node cluster, half of it offline, through a SIGKILL of the
// leader in the middle of a burst: every member ends up with every acknowledged room message
// exactly once, the ones online pushed at once, the others at their next login.
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "chat/client/cluster_client.h"
#include "support/line_client.h"
#include "support/node_process.h"
#include "support/process_cluster.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using client::ClusterClient;

// A line-mode session: one request line, one reply (ending in \r\n).
class LineSession {
 public:
  explicit LineSession(int port) : line_(port) {}
  std::string request(const std::string& text, bool endsWithBlankLine = false) {
    line_.write(text + "\n");
    return line_.readUntil(endsWithBlankLine ? "\r\n\r\n" : "\r\n", 5000ms);
  }
  // A reply of several lines: what arrives within a moment.
  std::string requestLines(const std::string& text) {
    line_.write(text + "\n");
    return line_.readUntil("\x01never", 500ms);
  }
  std::string readPush() { return line_.readUntil("\r\n", 5000ms); }

 private:
  testing::LineClient line_;
};

TEST(RoomsLineModeTest, EveryRoomOperationWorksFromATerminal) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"));
  ASSERT_TRUE(node.start());
  LineSession alice(node.port());
  LineSession bob(node.port());
  LineSession carol(node.port());
  for (auto [session, name] : {std::pair{&alice, "alice"}, std::pair{&bob, "bob"},
                                std::pair{&carol, "carol"}}) {
    ASSERT_EQ(session->request("1 0 " + std::string(name) + " pw").substr(0, 2), "OK");
    ASSERT_EQ(session->request("1 2 " + std::string(name) + " pw", true).substr(0, 2), "OK");
  }
  EXPECT_EQ(alice.request("1 14 #team invite"),
            "OK room #team created (invite); invite with '1 17 #team <user>', send with '1 3 "
            "#team <text>'\r\n");
  EXPECT_EQ(bob.request("1 15 #team"),
            "ERROR 24: #team is invite-only; ask a member to invite you\r\n");
  EXPECT_EQ(alice.request("1 17 #team bob"), "OK bob is in #team\r\n");
  EXPECT_EQ(alice.request("1 14 #lobby"),
            "OK room #lobby created (open); invite with '1 17 #lobby <user>', send with '1 3 "
            "#lobby <text>'\r\n");
  EXPECT_EQ(carol.request("1 15 #LOBBY"), "OK you are in #LOBBY; send with '1 3 #LOBBY <text>'\r\n");
  // Carol sees the open room and not the invite-only one; bob sees both.
  EXPECT_EQ(carol.requestLines("1 18"),
            "OK 1 room\r\n#lobby open, 2 members, owner alice (joined)\r\n");
  EXPECT_EQ(bob.requestLines("1 18 *"),
            "OK 2 rooms\r\n#lobby open, 2 members, owner alice\r\n#team invite, 2 members, owner "
            "alice (joined)\r\n");
  EXPECT_EQ(bob.requestLines("1 19 #team"),
            "OK #team invite, 2 members, owner alice (joined)\r\nalice (online)\r\nbob "
            "(online)\r\n");
  // A room message reaches the other member at once, marked with its room.
  EXPECT_EQ(alice.request("1 3 #team hello team"), "OK sent to #team: 1 other member, 1 online\r\n");
  EXPECT_EQ(bob.readPush(), "From alice in #team: Message: hello team\r\n");
  std::string history = bob.requestLines("1 8 #team 5");
  EXPECT_NE(history.find("OK 1 message\r\n#"), std::string::npos) << history;
  EXPECT_NE(history.find(" alice -> #team: hello team\r\n"), std::string::npos) << history;
  // Handed over once: a deliver does not bring it again.
  EXPECT_EQ(bob.request("1 5 bob pw", true), "OK 0 messages, 0 still waiting\r\n\r\n");
  EXPECT_EQ(carol.request("1 3 #team let me in"),
            "ERROR 23: you are not in #team; join it first\r\n");
  EXPECT_EQ(bob.request("1 16 #team"), "OK you left #team\r\n");
  EXPECT_EQ(bob.request("1 3 #team bye"), "ERROR 23: you are not in #team; join it first\r\n");
  EXPECT_EQ(bob.request("1 15 #nowhere"),
            "ERROR 21: there is no room #nowhere; list rooms with /rooms or create it\r\n");
  EXPECT_EQ(bob.request("1 15 nowhere"), "ERROR 21: a room name starts with '#', e.g. #general\r\n");
  std::string help = alice.requestLines("1 6");
  EXPECT_NE(help.find("14 create-room <#room> [open|invite|owner-invites]"), std::string::npos);
}

// A cluster client logged in as `user` (the account created first if need be).
std::unique_ptr<ClusterClient> loggedIn(const testing::ProcessCluster& cluster,
                                        const std::string& user) {
  client::ClusterClientOptions o;
  o.servers = cluster.addresses();
  o.requestTimeout = 20s;
  auto c = std::make_unique<ClusterClient>(o);
  auto created = c->call(protocol::CreateRequest{user, "pw"}, 20s);
  EXPECT_TRUE(created && (created->isOk() || created->code == protocol::ErrorCode::kUsernameTaken))
      << user;
  auto login = c->call(protocol::LoginRequest{user, "pw"}, 20s);
  EXPECT_TRUE(login && login->isOk()) << (login ? login->error : login.error().toString());
  return c;
}

// What a member's client handed to the application, acknowledging each as it came.
struct Inbox {
  std::map<std::string, int> times;   // body -> times handed over
  std::map<std::string, uint64_t> ids;  // body -> message id
  void take(ClusterClient& c, const protocol::ChatMessage& m) {
    EXPECT_EQ(m.recipient, "#crowd");
    ++times[m.body];
    ids[m.body] = m.id;
    c.submit(protocol::AckRequest{{m.id}});
  }
};

void drainPushes(ClusterClient& c, Inbox& inbox) {
  while (auto e = c.waitEvent(1ms)) {
    if (auto* p = std::get_if<protocol::Push>(&*e)) {
      if (auto* m = std::get_if<protocol::MessagePush>(p)) {
        inbox.take(c, m->message);
      }
    }
  }
}

TEST(RoomsClusterTest, TwentyMembersHalfOfflineGetEveryAcknowledgedMessageOnceThroughALeaderKill) {
  testing::ProcessCluster cluster(3);
  ASSERT_TRUE(cluster.startAll());
  size_t leader = cluster.waitForLeader();
  ASSERT_NE(leader, 0u);
  auto owner = loggedIn(cluster, "owner");
  auto created = owner->call(protocol::CreateRoomRequest{"#crowd", protocol::RoomAccess::kOpen}, 20s);
  ASSERT_TRUE(created && created->isOk()) << (created ? created->error : "timeout");
  // Nine members online (they join), ten offline (invited while away).
  std::vector<std::unique_ptr<ClusterClient>> online;
  for (int i = 0; i < 9; ++i) {
    online.push_back(loggedIn(cluster, "on" + std::to_string(i)));
    auto joined = online.back()->call(protocol::JoinRoomRequest{"#crowd"}, 20s);
    ASSERT_TRUE(joined && joined->isOk()) << (joined ? joined->error : "timeout");
  }
  {
    client::ClusterClientOptions o;
    o.servers = cluster.addresses();
    ClusterClient setup(o);
    for (int i = 0; i < 10; ++i) {
      std::string name = "off" + std::to_string(i);
      auto c = setup.call(protocol::CreateRequest{name, "pw"}, 20s);
      ASSERT_TRUE(c && c->isOk());
      auto invited = owner->call(protocol::InviteToRoomRequest{"#crowd", name}, 20s);
      ASSERT_TRUE(invited && invited->isOk()) << (invited ? invited->error : "timeout");
    }
  }
  // The burst: 300 messages, 8 in flight; the leader is killed after the 100th acknowledgement.
  constexpr int kTotal = 300;
  std::vector<Inbox> onlineInboxes(online.size());
  std::map<uint64_t, std::string> inFlight;
  std::map<std::string, uint64_t> acknowledged;  // body -> id
  std::vector<std::string> errors;
  int next = 0;
  bool killed = false;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline &&
         acknowledged.size() + errors.size() < static_cast<size_t>(kTotal)) {
    while (next < kTotal && inFlight.size() < 8) {
      std::string body = "m" + std::to_string(next++);
      inFlight[owner->submit(protocol::SendRequest{"#crowd", body})] = body;
    }
    if (!killed && acknowledged.size() >= 100) {
      killed = true;
      cluster.node(leader).kill(SIGKILL);
    }
    while (auto e = owner->waitEvent(1ms)) {
      if (auto* r = std::get_if<protocol::Response>(&*e)) {
        auto it = inFlight.find(r->requestId);
        if (it == inFlight.end()) {
          continue;
        }
        if (r->isOk()) {
          acknowledged[it->second] = std::get<protocol::SendReply>(r->body).messageId;
        } else {
          errors.push_back(it->second + ": " + r->error);
        }
        inFlight.erase(it);
      }
    }
    for (size_t i = 0; i < online.size(); ++i) {
      drainPushes(*online[i], onlineInboxes[i]);
    }
  }
  ASSERT_TRUE(killed);
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kTotal));
  // The room's order is the order of the sends: ids increase with the send sequence.
  uint64_t previous = 0;
  for (int i = 0; i < kTotal; ++i) {
    uint64_t id = acknowledged.at("m" + std::to_string(i));
    EXPECT_GT(id, previous) << "m" << i << " out of order";
    previous = id;
  }
  // Online members: everything arrives, pushed (or handed over again after the failover).
  auto settle = std::chrono::steady_clock::now() + 30s;
  auto allIn = [&] {
    for (const auto& inbox : onlineInboxes) {
      if (inbox.times.size() < acknowledged.size()) {
        return false;
      }
    }
    return true;
  };
  while (!allIn() && std::chrono::steady_clock::now() < settle) {
    for (size_t i = 0; i < online.size(); ++i) {
      drainPushes(*online[i], onlineInboxes[i]);
      // What waits unpushed (the leader died before pushing it) comes with a deliver.
      if (onlineInboxes[i].times.size() < acknowledged.size()) {
        auto d = online[i]->call(protocol::DeliverRequest{0, "", ""}, 20s);
        if (d && d->isOk()) {
          for (const auto& m : std::get<protocol::DeliverReply>(d->body).messages) {
            onlineInboxes[i].take(*online[i], m);
          }
        }
      }
    }
  }
  std::vector<Inbox> inboxes = std::move(onlineInboxes);
  // Offline members log in afterwards and get it all from their waiting messages.
  for (int i = 0; i < 10; ++i) {
    client::ClusterClientOptions o;
    o.servers = cluster.addresses();
    o.requestTimeout = 20s;
    ClusterClient member(o);
    auto login = member.call(protocol::LoginRequest{"off" + std::to_string(i), "pw"}, 20s);
    ASSERT_TRUE(login && login->isOk());
    EXPECT_EQ(std::get<protocol::LoginReply>(login->body).waiting, static_cast<uint32_t>(kTotal));
    Inbox inbox;
    for (int round = 0; round < 20 && inbox.times.size() < acknowledged.size(); ++round) {
      auto d = member.call(protocol::DeliverRequest{100, "", ""}, 20s);
      ASSERT_TRUE(d && d->isOk());
      std::vector<uint64_t> ids;
      for (const auto& m : std::get<protocol::DeliverReply>(d->body).messages) {
        ++inbox.times[m.body];
        inbox.ids[m.body] = m.id;
        ids.push_back(m.id);
      }
      auto acked = member.call(protocol::AckRequest{ids}, 20s);
      ASSERT_TRUE(acked && acked->isOk());
    }
    inboxes.push_back(std::move(inbox));
  }
  ASSERT_EQ(inboxes.size(), 19u);
  for (size_t m = 0; m < inboxes.size(); ++m) {
    SCOPED_TRACE("member " + std::to_string(m));
    EXPECT_EQ(inboxes[m].times.size(), acknowledged.size());
    for (const auto& [body, id] : acknowledged) {
      auto it = inboxes[m].times.find(body);
      ASSERT_NE(it, inboxes[m].times.end()) << body << " acknowledged, never arrived";
      EXPECT_EQ(it->second, 1) << body << " arrived " << it->second << " times";
      EXPECT_EQ(inboxes[m].ids.at(body), id);
    }
  }
}

// The conversation list as a user sees it at login: the same counts after a failover (from
// the new leader's memory) and after the whole cluster restarts (rebuilt from chat.db and the
// log), because read markers are replicated records like everything else.
TEST(ConversationsClusterTest, TheListAndUnreadCountsSurviveAFailoverAndARestart) {
  testing::ProcessCluster cluster(3);
  ASSERT_TRUE(cluster.startAll());
  size_t leader = cluster.waitForLeader();
  ASSERT_NE(leader, 0u);
  auto alice = loggedIn(cluster, "alice");
  auto carol = loggedIn(cluster, "carol");
  auto bob = loggedIn(cluster, "bob");
  ASSERT_TRUE(alice->call(protocol::CreateRoomRequest{"#team", protocol::RoomAccess::kOpen}, 20s)
                  ->isOk());
  ASSERT_TRUE(alice->call(protocol::InviteToRoomRequest{"#team", "bob"}, 20s)->isOk());
  uint64_t firstId = 0;
  for (int i = 0; i < 3; ++i) {
    auto sent = alice->call(protocol::SendRequest{"bob", "to bob " + std::to_string(i)}, 20s);
    ASSERT_TRUE(sent && sent->isOk());
    if (i == 0) {
      firstId = std::get<protocol::SendReply>(sent->body).messageId;
    }
  }
  ASSERT_TRUE(carol->call(protocol::SendRequest{"bob", "hi from carol"}, 20s)->isOk());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(alice->call(protocol::SendRequest{"#team", "news " + std::to_string(i)}, 20s)
                    ->isOk());
  }
  auto read = bob->call(protocol::MarkReadRequest{"alice", firstId}, 20s);
  ASSERT_TRUE(read && read->isOk()) << (read ? read->error : "timeout");
  auto listOf = [](ClusterClient& c) {
    auto r = c.call(protocol::ConversationsRequest{}, 20s);
    EXPECT_TRUE(r && r->isOk()) << (r ? r->error : r.error().toString());
    return r && r->isOk() ? std::get<protocol::ConversationsReply>(r->body).conversations
                          : std::vector<protocol::ConversationEntry>{};
  };
  auto before = listOf(*bob);
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(before[0].peer, "#team");
  EXPECT_EQ(before[0].unread, 2u);
  EXPECT_EQ(before[0].firstLine, "news 1");
  EXPECT_EQ(before[1].peer, "carol");
  EXPECT_EQ(before[1].unread, 1u);
  EXPECT_EQ(before[2].peer, "alice");
  EXPECT_EQ(before[2].unread, 2u);
  EXPECT_EQ(before[2].readUpTo, firstId);

  cluster.node(leader).kill(SIGKILL);
  EXPECT_EQ(listOf(*bob), before) << "after the failover";

  // The whole cluster down and up again (the killed node too): rebuilt from disk.
  for (size_t id = 1; id <= 3; ++id) {
    cluster.node(id).kill(SIGTERM);
  }
  ASSERT_TRUE(cluster.startAll());
  ASSERT_NE(cluster.waitForLeader(), 0u);
  auto again = loggedIn(cluster, "bob");  // the account exists: create is refused, login works
  EXPECT_EQ(listOf(*again), before) << "after the restart";
}

}  // namespace
}  // namespace chat
