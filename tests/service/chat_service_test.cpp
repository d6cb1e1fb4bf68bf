#include "chat_service_fixture.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <optional>
#include <thread>

#include "chat/common/mutex.h"
#include "support/eventually.h"

namespace chat::service {
namespace {

using namespace std::chrono_literals;
using protocol::ErrorCode;

TEST_F(ChatServiceTest, MessageToOnlineRecipientIsPushedAtOnce) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  auto sent = call(alice, protocol::SendRequest{"bob", "hi bob"});
  ASSERT_TRUE(sent.isOk()) << sent.error;
  auto reply = std::get<protocol::SendReply>(sent.body);
  EXPECT_TRUE(reply.recipientOnline);
  auto push = bob.session->waitFor<protocol::MessagePush>();
  ASSERT_TRUE(push.has_value());
  EXPECT_EQ(push->message.body, "hi bob");
  EXPECT_EQ(push->message.sender, "alice");
  EXPECT_EQ(push->message.id, reply.messageId);
  // Bob acks; alice hears it was delivered.
  auto acked = call(bob, protocol::AckRequest{{reply.messageId}});
  EXPECT_EQ(std::get<protocol::AckReply>(acked.body).acked, 1u);
  auto delivered = alice.session->waitFor<protocol::DeliveredPush>();
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->messageId, reply.messageId);
  EXPECT_EQ(delivered->recipient, "bob");
}

TEST_F(ChatServiceTest, OfflineRecipientGetsMessagesAtLoginAndByDeliver) {
  Client alice = loggedIn("alice");
  Client setup = connect();
  call(setup, protocol::CreateRequest{"bob", "pw"});
  for (int i = 0; i < 3; ++i) {
    auto r = call(alice, protocol::SendRequest{"bob", "m" + std::to_string(i)});
    EXPECT_FALSE(std::get<protocol::SendReply>(r.body).recipientOnline);
  }
  Client bob = connect();
  auto login = call(bob, protocol::LoginRequest{"bob", "pw"});
  EXPECT_EQ(std::get<protocol::LoginReply>(login.body).waiting, 3u);
  auto two = std::get<protocol::DeliverReply>(call(bob, protocol::DeliverRequest{2, "", ""}).body);
  ASSERT_EQ(two.messages.size(), 2u);
  EXPECT_EQ(two.messages[0].body, "m0");
  EXPECT_EQ(two.remaining, 1u);
  // Not acked yet: handed over again on the next deliver.
  auto all = std::get<protocol::DeliverReply>(call(bob, protocol::DeliverRequest{0, "", ""}).body);
  EXPECT_EQ(all.messages.size(), 3u);
  call(bob, protocol::AckRequest{{all.messages[0].id, all.messages[1].id, all.messages[2].id}});
  auto none = std::get<protocol::DeliverReply>(call(bob, protocol::DeliverRequest{0, "", ""}).body);
  EXPECT_TRUE(none.messages.empty());
}

TEST_F(ChatServiceTest, LineClientsCountHandedOverMessagesAsDelivered) {
  Client alice = loggedIn("alice");
  Client setup = connect();
  call(setup, protocol::CreateRequest{"bob", "pw"});
  call(alice, protocol::SendRequest{"bob", "hello"});
  Client line = connect(false);
  auto first = call(line, protocol::DeliverRequest{0, "bob", "pw"});
  ASSERT_TRUE(first.isOk()) << first.error;
  EXPECT_EQ(std::get<protocol::DeliverReply>(first.body).messages.size(), 1u);
  auto second = call(line, protocol::DeliverRequest{0, "bob", "pw"});
  EXPECT_TRUE(std::get<protocol::DeliverReply>(second.body).messages.empty());
  EXPECT_EQ(call(line, protocol::DeliverRequest{0, "bob", "wrong"}).code,
            ErrorCode::kWrongPassword);
}

TEST_F(ChatServiceTest, AccountErrorsSayWhatWentWrong) {
  Client c = connect();
  EXPECT_TRUE(call(c, protocol::CreateRequest{"alice", "pw"}).isOk());
  auto dup = call(c, protocol::CreateRequest{"ALICE", "pw"});
  EXPECT_EQ(dup.code, ErrorCode::kUsernameTaken);
  EXPECT_NE(dup.error.find("taken"), std::string::npos);
  EXPECT_EQ(call(c, protocol::CreateRequest{"", "pw"}).code, ErrorCode::kInvalidUsername);
  EXPECT_EQ(call(c, protocol::CreateRequest{"x", ""}).code, ErrorCode::kInvalidPassword);
  EXPECT_EQ(call(c, protocol::LoginRequest{"alice", "nope"}).code, ErrorCode::kWrongPassword);
  EXPECT_EQ(call(c, protocol::LoginRequest{"ghost", "pw"}).code, ErrorCode::kNoSuchUser);
  EXPECT_EQ(call(c, protocol::SendRequest{"alice", "x"}).code, ErrorCode::kNotLoggedIn);
  EXPECT_EQ(call(c, protocol::LogoutRequest{}).code, ErrorCode::kNotLoggedIn);
  EXPECT_TRUE(call(c, protocol::LoginRequest{"alice", "pw"}).isOk());
  EXPECT_EQ(call(c, protocol::LoginRequest{"alice", "pw"}).code, ErrorCode::kAlreadyLoggedIn);
  EXPECT_EQ(call(c, protocol::SendRequest{"ghost", "x"}).code, ErrorCode::kNoSuchUser);
  EXPECT_EQ(call(c, protocol::SendRequest{"alice", ""}).code, ErrorCode::kInvalidMessage);
  EXPECT_EQ(call(c, protocol::SendRequest{"alice", std::string(5000, 'x')}).code,
            ErrorCode::kInvalidMessage);
}

TEST_F(ChatServiceTest, NewLoginTakesTheAccountOver) {
  Client first = loggedIn("alice");
  Client second = connect();
  EXPECT_TRUE(call(second, protocol::LoginRequest{"alice", "pw"}).isOk());
  EXPECT_NE(first.session->ended().find("another connection"), std::string::npos);
  EXPECT_EQ(call(first, protocol::SendRequest{"alice", "x"}).code, ErrorCode::kNotLoggedIn);
  EXPECT_EQ(service_.sessionCount(), 1u);
}

TEST_F(ChatServiceTest, ATokenResumesTheSessionOnAnotherConnectionWithoutThePassword) {
  Client first = connect();
  call(first, protocol::CreateRequest{"alice", "pw"});
  auto login = call(first, protocol::LoginRequest{"alice", "pw"});
  std::string token = std::get<protocol::LoginReply>(login.body).sessionToken;
  ASSERT_FALSE(token.empty());
  Client bob = loggedIn("bob");
  call(bob, protocol::SendRequest{"alice", "while you were away"});

  Client second = connect();
  auto resumed = call(second, protocol::ResumeRequest{token});
  ASSERT_TRUE(resumed.isOk()) << resumed.error;
  EXPECT_EQ(resumed.opcode, protocol::Opcode::kResume);
  // Not acked on the first connection, so still waiting; and a fresh token comes back.
  EXPECT_EQ(std::get<protocol::LoginReply>(resumed.body).waiting, 1u);
  EXPECT_FALSE(std::get<protocol::LoginReply>(resumed.body).sessionToken.empty());
  EXPECT_FALSE(first.session->ended().empty());
  EXPECT_TRUE(call(second, protocol::SendRequest{"bob", "back"}).isOk());
  EXPECT_EQ(call(second, protocol::ResumeRequest{token}).code, ErrorCode::kAlreadyLoggedIn);
}

TEST_F(ChatServiceTest, ResumeRefusesForgedExpiredAndOrphanedTokens) {
  Client c = connect();
  auto bad = call(c, protocol::ResumeRequest{"garbage"});
  EXPECT_EQ(bad.code, ErrorCode::kSessionExpired);
  EXPECT_NE(bad.error.find("log in with your password"), std::string::npos) << bad.error;

  call(c, protocol::CreateRequest{"dave", "pw"});
  auto login = call(c, protocol::LoginRequest{"dave", "pw"});
  std::string token = std::get<protocol::LoginReply>(login.body).sessionToken;
  call(c, protocol::LogoutRequest{});
  clock_.advance(25h);
  EXPECT_EQ(call(connect(), protocol::ResumeRequest{token}).code, ErrorCode::kSessionExpired);

  // A token of a deleted account does not open an account re-created under the same name.
  login = call(c, protocol::LoginRequest{"dave", "pw"});
  token = std::get<protocol::LoginReply>(login.body).sessionToken;
  call(c, protocol::LogoutRequest{});
  ASSERT_TRUE(call(c, protocol::DeleteAccountRequest{"dave", "pw"}).isOk());
  call(c, protocol::CreateRequest{"dave", "other"});
  auto orphan = call(connect(), protocol::ResumeRequest{token});
  EXPECT_EQ(orphan.code, ErrorCode::kSessionExpired);
  EXPECT_NE(orphan.error.find("deleted"), std::string::npos) << orphan.error;
}

// A login that got past the password check while the account's deletion was on its way to
// the log: the deletion, once applied, ends that session (on every node: each applies it), so
// it can never act as a re-created account of the same name.
TEST_F(ChatServiceTest, ADeletionEndsASessionThatLoggedInWhileItWasInFlight) {
  Client owner = loggedIn("alice");
  holding_.hold();
  std::promise<protocol::Response> deleted;
  service_.handle(owner.context, 1000, protocol::DeleteAccountRequest{"alice", "pw"},
                  [&](protocol::Response r) { deleted.set_value(std::move(r)); });
  ASSERT_EQ(holding_.heldCount(), 1u);  // the deletion, not yet in the log
  Client late = connect();
  // The owner's session is taken over; the password is right and the account still there.
  ASSERT_TRUE(call(late, protocol::LoginRequest{"alice", "pw"}).isOk());
  holding_.releaseAll();
  auto reply = deleted.get_future();
  ASSERT_EQ(reply.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(reply.get().isOk());
  EXPECT_NE(late.session->ended().find("the account alice was deleted"), std::string::npos)
      << late.session->ended();
  // Someone else creates alice again: the late session acts for nobody.
  Client stranger = connect();
  call(stranger, protocol::CreateRequest{"alice", "theirs"});
  EXPECT_EQ(call(late, protocol::SendRequest{"bob", "x"}).code, ErrorCode::kNotLoggedIn);
  EXPECT_EQ(call(late, protocol::DeliverRequest{}).code, ErrorCode::kNotLoggedIn);
  EXPECT_EQ(service_.sessionCount(), 0u);
}

TEST_F(ChatServiceTest, LogoutRevokesEveryTokenIssuedBefore) {
  Client c = connect();
  call(c, protocol::CreateRequest{"frank", "pw"});
  auto login = call(c, protocol::LoginRequest{"frank", "pw"});
  std::string first = std::get<protocol::LoginReply>(login.body).sessionToken;
  // A resume hands out another token; both descend from the same login.
  Client other = connect();
  auto resumed = call(other, protocol::ResumeRequest{first});
  ASSERT_TRUE(resumed.isOk()) << resumed.error;
  std::string second = std::get<protocol::LoginReply>(resumed.body).sessionToken;
  ASSERT_TRUE(call(other, protocol::LogoutRequest{}).isOk());
  for (const std::string& token : {first, second}) {
    auto refused = call(connect(), protocol::ResumeRequest{token});
    EXPECT_EQ(refused.code, ErrorCode::kSessionExpired);
    EXPECT_NE(refused.error.find("logged out"), std::string::npos) << refused.error;
  }
  // A new password login works, and its token resumes.
  auto again = call(connect(), protocol::LoginRequest{"frank", "pw"});
  ASSERT_TRUE(again.isOk());
  std::string fresh = std::get<protocol::LoginReply>(again.body).sessionToken;
  EXPECT_TRUE(call(connect(), protocol::ResumeRequest{fresh}).isOk());
}

// A resume that got in with a token while the logout revoking it was on its way to the log is
// ended when the logout applies.
TEST_F(ChatServiceTest, AResumeRacingALogoutIsEndedByIt) {
  Client c = connect();
  call(c, protocol::CreateRequest{"gina", "pw"});
  auto login = call(c, protocol::LoginRequest{"gina", "pw"});
  std::string token = std::get<protocol::LoginReply>(login.body).sessionToken;
  holding_.hold();
  std::promise<protocol::Response> loggedOut;
  service_.handle(c.context, 1000, protocol::LogoutRequest{},
                  [&](protocol::Response r) { loggedOut.set_value(std::move(r)); });
  Client thief = connect();
  ASSERT_TRUE(call(thief, protocol::ResumeRequest{token}).isOk());
  holding_.releaseAll();
  auto reply = loggedOut.get_future();
  ASSERT_EQ(reply.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(reply.get().isOk());
  EXPECT_NE(thief.session->ended().find("logged out"), std::string::npos);
  EXPECT_EQ(call(thief, protocol::SendRequest{"gina", "x"}).code, ErrorCode::kNotLoggedIn);
  EXPECT_EQ(call(connect(), protocol::ResumeRequest{token}).code, ErrorCode::kSessionExpired);
}

TEST_F(ChatServiceTest, ResumingCannotStretchASessionPastItsLifetime) {
  Client c = connect();
  call(c, protocol::CreateRequest{"hal", "pw"});
  auto login = call(c, protocol::LoginRequest{"hal", "pw"});
  std::string token = std::get<protocol::LoginReply>(login.body).sessionToken;
  // Every 20 hours a resume hands out a fresh token; the session still ends 24 h after the
  // password login.
  clock_.advance(20h);
  auto resumed = call(connect(), protocol::ResumeRequest{token});
  ASSERT_TRUE(resumed.isOk()) << resumed.error;
  token = std::get<protocol::LoginReply>(resumed.body).sessionToken;
  clock_.advance(5h);
  auto expired = call(connect(), protocol::ResumeRequest{token});
  EXPECT_EQ(expired.code, ErrorCode::kSessionExpired);
  EXPECT_NE(expired.error.find("24 h from its password login"), std::string::npos)
      << expired.error;
}

TEST_F(ChatServiceTest, OneAccountSendsAtABoundedRate) {
  Client ivy = loggedIn("ivy");
  loggedIn("jack");
  // A burst of ten seconds' worth (500) goes through; the next waits for the bucket.
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(call(ivy, protocol::SendRequest{"jack", "m" + std::to_string(i)}).isOk()) << i;
  }
  auto refused = call(ivy, protocol::SendRequest{"jack", "one too fast"});
  EXPECT_EQ(refused.code, ErrorCode::kTooManyAttempts);
  EXPECT_NE(refused.error.find("faster than 50 messages a second; wait 20 ms"), std::string::npos)
      << refused.error;
  // Another account is not slowed by ivy's flood.
  Client kim = loggedIn("kim");
  EXPECT_TRUE(call(kim, protocol::SendRequest{"jack", "hello"}).isOk());
  clock_.advance(20ms);
  EXPECT_TRUE(call(ivy, protocol::SendRequest{"jack", "one too fast"}).isOk());
}

// Typing notices: not stored, pushed to the peer if online (binary clients), at most one a
// second per session however often the client sends them.
TEST_F(ChatServiceTest, TypingIsPushedToAnOnlinePeerAtMostOnceASecond) {
  EXPECT_EQ(call(connect(), protocol::TypingRequest{"bob"}).code, ErrorCode::kNotLoggedIn);
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  ASSERT_TRUE(call(alice, protocol::TypingRequest{"bob"}).isOk());
  auto typing = bob.session->waitFor<protocol::TypingPush>();
  ASSERT_TRUE(typing.has_value());
  EXPECT_EQ(typing->user, "alice");
  ASSERT_TRUE(call(alice, protocol::TypingRequest{"bob"}).isOk());  // too soon: not passed on
  clock_.advance(1s);
  ASSERT_TRUE(call(alice, protocol::TypingRequest{"bob"}).isOk());
  EXPECT_TRUE(bob.session->waitFor<protocol::TypingPush>().has_value());
  EXPECT_EQ(bob.session->count<protocol::TypingPush>(), 0u);
  // Nobody online to tell: fine, and nothing stored.
  ASSERT_TRUE(call(alice, protocol::TypingRequest{"nobody"}).isOk());
}

TEST_F(ChatServiceTest, LineClientsGetNoToken) {
  Client line = connect(false);
  call(line, protocol::CreateRequest{"erin", "pw"});
  auto login = call(line, protocol::LoginRequest{"erin", "pw"});
  ASSERT_TRUE(login.isOk());
  EXPECT_TRUE(std::holds_alternative<protocol::DeliverReply>(login.body) ||
              std::get<protocol::LoginReply>(login.body).sessionToken.empty());
}

TEST_F(ChatServiceTest, DeleteIsRefusedWhileAnotherSessionHoldsTheAccount) {
  Client alice = loggedIn("alice");
  Client other = connect();
  auto busy = call(other, protocol::DeleteAccountRequest{"alice", "pw"});
  EXPECT_EQ(busy.code, ErrorCode::kAccountBusy);
  EXPECT_NE(busy.error.find("log out there first"), std::string::npos);
  EXPECT_EQ(call(other, protocol::DeleteAccountRequest{"alice", "bad"}).code,
            ErrorCode::kWrongPassword);
  call(alice, protocol::LogoutRequest{});
  EXPECT_TRUE(call(other, protocol::DeleteAccountRequest{"alice", "pw"}).isOk());
  EXPECT_EQ(call(other, protocol::LoginRequest{"alice", "pw"}).code, ErrorCode::kNoSuchUser);
}

TEST_F(ChatServiceTest, DeletingYourOwnAccountEndsTheSessionAndDropsWaitingMessages) {
  Client bob = loggedIn("bob");
  Client setup = connect();
  call(setup, protocol::CreateRequest{"alice", "pw"});
  call(bob, protocol::SendRequest{"alice", "waiting for alice"});
  Client alice = connect();
  call(alice, protocol::LoginRequest{"alice", "pw"});
  auto deleted = call(alice, protocol::DeleteAccountRequest{"alice", "pw"});
  ASSERT_TRUE(deleted.isOk()) << deleted.error;
  EXPECT_EQ(std::get<protocol::DeleteAccountReply>(deleted.body).discarded, 1u);
  EXPECT_EQ(call(alice, protocol::SendRequest{"bob", "x"}).code, ErrorCode::kNotLoggedIn);
  EXPECT_EQ(call(bob, protocol::SendRequest{"alice", "x"}).code, ErrorCode::kNoSuchUser);
}

TEST_F(ChatServiceTest, RetriedSendWithTheSameRequestIdIsStoredOnce) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  auto send = [&](uint64_t id) {
    std::promise<protocol::Response> p;
    service_.handle(alice.context, id, protocol::SendRequest{"bob", "once"},
                    [&p](protocol::Response r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  auto a = send(500);
  auto b = send(500);
  EXPECT_EQ(std::get<protocol::SendReply>(a.body).messageId,
            std::get<protocol::SendReply>(b.body).messageId);
  ASSERT_TRUE(bob.session->waitFor<protocol::MessagePush>().has_value());
  EXPECT_EQ(bob.session->count<protocol::MessagePush>(), 0u);
}

TEST_F(ChatServiceTest, ListShowsOnlineStateAndWatchersHearPresence) {
  Client alice = loggedIn("alice");
  Client setup = connect();
  call(setup, protocol::CreateRequest{"bob", "pw"});
  call(setup, protocol::CreateRequest{"carol", "pw"});
  // Not for strangers: a connection without a login learns nothing of who exists.
  auto stranger = call(setup, protocol::ListRequest{"*", 0, 10});
  EXPECT_EQ(stranger.code, ErrorCode::kNotLoggedIn);
  EXPECT_NE(stranger.error.find("log in"), std::string::npos) << stranger.error;
  auto list = std::get<protocol::ListReply>(call(alice, protocol::ListRequest{"*", 0, 10}).body);
  ASSERT_EQ(list.total, 3u);
  EXPECT_TRUE(list.users[0].online);   // alice
  EXPECT_FALSE(list.users[1].online);  // bob
  auto b = std::get<protocol::ListReply>(call(alice, protocol::ListRequest{"b?b", 0, 10}).body);
  ASSERT_EQ(b.users.size(), 1u);
  Client bob = connect();
  call(bob, protocol::LoginRequest{"bob", "pw"});
  auto online = alice.session->waitFor<protocol::PresencePush>();
  ASSERT_TRUE(online.has_value());
  EXPECT_EQ(online->user, "bob");
  EXPECT_TRUE(online->online);
  service_.detach(bob.context);
  auto offline = alice.session->waitFor<protocol::PresencePush>();
  ASSERT_TRUE(offline.has_value());
  EXPECT_FALSE(offline->online);
  EXPECT_EQ(call(alice, protocol::ListRequest{"[a]", 0, 10}).code, ErrorCode::kMalformed);
}

TEST_F(ChatServiceTest, HistoryPagesAConversation) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  for (int i = 0; i < 5; ++i) {
    call(i % 2 ? bob : alice, protocol::SendRequest{i % 2 ? "alice" : "bob", std::to_string(i)});
  }
  auto page =
      std::get<protocol::HistoryReply>(call(alice, protocol::HistoryRequest{"bob", 0, 2}).body);
  ASSERT_EQ(page.messages.size(), 2u);
  EXPECT_EQ(page.messages[1].body, "4");
  EXPECT_TRUE(page.hasMore);
  auto rest = std::get<protocol::HistoryReply>(
      call(alice, protocol::HistoryRequest{"bob", page.messages[0].id, 10}).body);
  EXPECT_EQ(rest.messages.size(), 3u);
  EXPECT_FALSE(rest.hasMore);
}

TEST_F(ChatServiceTest, AFollowerRedirectsAllButStatusPingAndHelp) {
  service_.setLeaderCheck([] {
    return std::optional<protocol::NotLeaderReply>(protocol::NotLeaderReply{3, "h3:7003"});
  });
  Client c = connect();
  auto r = call(c, protocol::CreateRequest{"alice", "pw"});
  EXPECT_EQ(r.code, ErrorCode::kNotLeader);
  EXPECT_NE(r.error.find("node 3 at h3:7003"), std::string::npos);
  EXPECT_EQ(std::get<protocol::NotLeaderReply>(r.body).address, "h3:7003");
  EXPECT_EQ(call(c, protocol::ListRequest{}).code, ErrorCode::kNotLeader);
  EXPECT_TRUE(call(c, protocol::PingRequest{1}).isOk());
  EXPECT_TRUE(call(c, protocol::StatusRequest{}).isOk());
  service_.setLeaderCheck(
      [] { return std::optional<protocol::NotLeaderReply>(protocol::NotLeaderReply{}); });
  EXPECT_NE(call(c, protocol::CreateRequest{"alice", "pw"}).error.find("election"),
            std::string::npos);
}

TEST_F(ChatServiceTest, SendsQueuedBehindAFailedSendAreWithdrawnSoTheirRetryKeepsSendOrder) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");  // online: "two" would be pushed at once if it were stored
  holding_.hold();
  std::promise<protocol::Response> first;
  std::promise<protocol::Response> second;
  service_.handle(alice.context, 101, protocol::SendRequest{"bob", "one"},
                  [&](protocol::Response r) { first.set_value(std::move(r)); });
  service_.handle(alice.context, 102, protocol::SendRequest{"bob", "two"},
                  [&](protocol::Response r) { second.set_value(std::move(r)); });
  ASSERT_EQ(holding_.heldCount(), 2u);
  // "one" fails after "two" was already queued; "two" then reaches the commit thread.
  holding_.failOldest("this node lost leadership");
  holding_.releaseAll();
  auto f1 = first.get_future();
  auto f2 = second.get_future();
  ASSERT_EQ(f2.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f1.get().code, ErrorCode::kUnavailable);
  auto r2 = f2.get();
  EXPECT_EQ(r2.code, ErrorCode::kUnavailable);
  EXPECT_NE(r2.error.find("send it again"), std::string::npos);
  EXPECT_EQ(*store_.pendingCount("bob"), 0u) << "stored ahead of the send before it";
  EXPECT_EQ(bob.session->count<protocol::MessagePush>(), 0u);
  // The connection stays fenced; the client re-sends both, in order, on a new one.
  EXPECT_EQ(call(alice, protocol::SendRequest{"bob", "three"}).code, ErrorCode::kNotLeader);
  service_.detach(alice.context);
  Client again = loggedIn("alice");
  EXPECT_TRUE(call(again, protocol::SendRequest{"bob", "one"}).isOk());
  EXPECT_TRUE(call(again, protocol::SendRequest{"bob", "two"}).isOk());
  auto page = std::get<protocol::HistoryReply>(call(again, protocol::HistoryRequest{"bob", 0, 10}).body);
  ASSERT_EQ(page.messages.size(), 2u);
  EXPECT_EQ(page.messages[0].body, "one");
  EXPECT_EQ(page.messages[1].body, "two");
}

TEST_F(ChatServiceTest, StatusAndPing) {
  Client c = loggedIn("alice");
  auto status = call(c, protocol::StatusRequest{});
  auto s = std::get<protocol::StatusReply>(status.body).status;
  EXPECT_EQ(s.sessions, 1u);
  EXPECT_GE(s.commitIndex, 1u);
  EXPECT_EQ(std::get<protocol::PingReply>(call(c, protocol::PingRequest{9}).body).nonce, 9u);
  EXPECT_NE(std::get<protocol::HelpReply>(call(c, protocol::HelpRequest{}).body).text.find("login"),
            std::string::npos);
}

TEST_F(ChatServiceTest, PasswordGuessingIsSlowedPerAccountAndPerAddress) {
  Client owner = loggedIn("alice", "right");
  call(owner, protocol::LogoutRequest{});
  Client guesser = connect(true, "10.9.9.9");
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(call(guesser, protocol::LoginRequest{"alice", "wrong"}).code,
              ErrorCode::kWrongPassword);
  }
  // The sixth failure locked the account for a second: even the right password waits, from
  // any address.
  auto locked = call(connect(true, "10.1.1.1"), protocol::LoginRequest{"alice", "right"});
  EXPECT_EQ(locked.code, ErrorCode::kTooManyAttempts);
  EXPECT_NE(locked.error.find("wait 1 s, then try again"), std::string::npos) << locked.error;
  clock_.advance(1100ms);
  EXPECT_EQ(call(guesser, protocol::LoginRequest{"alice", "wrong"}).code, ErrorCode::kWrongPassword);
  auto doubled = call(guesser, protocol::LoginRequest{"alice", "right"});
  EXPECT_EQ(doubled.code, ErrorCode::kTooManyAttempts);
  EXPECT_NE(doubled.error.find("wait 2 s"), std::string::npos) << "each failure doubles the wait";
  clock_.advance(2100ms);
  EXPECT_TRUE(call(guesser, protocol::LoginRequest{"alice", "right"}).isOk());

  // Guessing names from one address: twenty free failures, then the address waits; another
  // address does not.
  Client scanner = connect(true, "10.6.6.6");
  for (int i = 0; i < 21; ++i) {
    EXPECT_EQ(call(scanner, protocol::LoginRequest{"nobody" + std::to_string(i), "x"}).code,
              ErrorCode::kNoSuchUser);
  }
  EXPECT_EQ(call(scanner, protocol::LoginRequest{"bob", "pw"}).code, ErrorCode::kTooManyAttempts);
  loggedIn("carol");  // from 10.0.0.1: unaffected
}

// Password checks and sign-ups wait for the slow hasher: here the hasher's queue is held, so
// that what the service decides before it (and what it refuses when it is full) shows.
class HeldExecutor final : public Executor {
 public:
  explicit HeldExecutor(size_t capacity) : capacity_(capacity) {}
  bool post(std::function<void()> task) override {
    if (tasks_.size() >= capacity_) {
      return false;
    }
    tasks_.push_back(std::move(task));
    return true;
  }
  void runAll() {
    while (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      task();
    }
  }
  size_t queued() const { return tasks_.size(); }

 private:
  size_t capacity_;
  std::deque<std::function<void()>> tasks_;
};

// A reply that the commit thread fills in and the test's thread reads: set once, read after
// has_value() says it is there (the mutex orders the two).
class ReplySlot {
 public:
  void set(protocol::Response r) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    reply_ = std::move(r);
  }
  bool has_value() const EXCLUDES(mu_) {  // NOLINT(readability-identifier-naming): as optional
    MutexLock lock(mu_);
    return reply_.has_value();
  }
  const protocol::Response* operator->() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return &reply_.value();
  }

 private:
  mutable Mutex mu_;
  std::optional<protocol::Response> reply_ GUARDED_BY(mu_);
};

class SlowWorkTest : public ::testing::Test {
 protected:
  SlowWorkTest()
      : hasher_(HashCost::kMin),
        executor_(20),
        log_(store_),
        service_(clock_, store_, *log_.log, hasher_, executor_, ServiceOptions{}) {}

  // Starts a request; its reply lands in the returned slot (empty until it comes).
  std::shared_ptr<ReplySlot> start(const std::string& address,
                                                           const protocol::Request& request) {
    auto session = std::make_shared<RecordingSession>(true, address);
    auto context = service_.attach(session);
    contexts_.push_back(context);
    auto slot = std::make_shared<ReplySlot>();
    service_.handle(context, ++nextId_, request,
                    [slot](protocol::Response r) { slot->set(std::move(r)); });
    return slot;
  }
  // Runs the hasher's queue and waits for every started request's reply.
  void finish(const std::vector<std::shared_ptr<ReplySlot>>& slots) {
    executor_.runAll();
    for (const auto& slot : slots) {
      ASSERT_TRUE(testing::eventually([&] { return slot->has_value(); }, 5s, 1ms));
    }
  }

  FakeClock clock_;
  storage::InMemoryMessageStore store_;
  PasswordHasher hasher_;
  HeldExecutor executor_;
  chat::testing::SingleNodeLog log_;
  ChatService service_;
  std::vector<ContextPtr> contexts_;
  uint64_t nextId_ = 0;
};

TEST_F(SlowWorkTest, ParallelGuessesGetNoMoreTriesThanOneConnection) {
  auto created = start("10.0.0.1", protocol::CreateRequest{"alice", "right"});
  finish({created});
  ASSERT_TRUE((*created)->isOk()) << (*created)->error;
  // Twelve guesses at once, from twelve addresses: each is counted when it starts, so the
  // sixth locks the account before any password was checked, and the rest wait.
  std::vector<std::shared_ptr<ReplySlot>> guesses;
  for (int i = 0; i < 12; ++i) {
    guesses.push_back(start("10.1.0." + std::to_string(i), protocol::LoginRequest{"alice", "guess"}));
  }
  EXPECT_EQ(executor_.queued(), 6u);
  finish(guesses);
  int wrong = 0;
  int locked = 0;
  for (const auto& g : guesses) {
    wrong += (*g)->code == ErrorCode::kWrongPassword ? 1 : 0;
    locked += (*g)->code == ErrorCode::kTooManyAttempts ? 1 : 0;
  }
  EXPECT_EQ(wrong, 6);
  EXPECT_EQ(locked, 6);
  // The owner gets in once the lockout has passed; a right password takes its attempt back.
  clock_.advance(1100ms);
  auto owner = start("10.2.0.1", protocol::LoginRequest{"alice", "right"});
  finish({owner});
  EXPECT_TRUE((*owner)->isOk()) << (*owner)->error;
}

TEST_F(SlowWorkTest, ABusyHasherRefusesWithBusyInsteadOfQueueingForEver) {
  std::vector<std::shared_ptr<ReplySlot>> creates;
  for (int i = 0; i < 21; ++i) {
    creates.push_back(start("10.3.0." + std::to_string(i),
                            protocol::CreateRequest{"user" + std::to_string(i), "pw"}));
  }
  ASSERT_TRUE(creates.back()->has_value());  // refused at once: the queue holds 20
  EXPECT_EQ((*creates.back())->code, ErrorCode::kUnavailable);
  EXPECT_NE((*creates.back())->error.find("busy"), std::string::npos) << (*creates.back())->error;
  creates.pop_back();
  finish(creates);
  for (const auto& c : creates) {
    EXPECT_TRUE((*c)->isOk());
  }
  // A refused login is not counted as a guess: twenty more logins from one address, the
  // hasher full, then all of them checked, leave that address free.
  std::vector<std::shared_ptr<ReplySlot>> logins;
  for (int i = 0; i < 25; ++i) {
    logins.push_back(start("10.4.0.1", protocol::LoginRequest{"user1", "pw"}));
  }
  finish(logins);
  auto after = start("10.4.0.1", protocol::LoginRequest{"user2", "pw"});
  finish({after});
  EXPECT_TRUE((*after)->isOk()) << (*after)->error;
}

TEST_F(SlowWorkTest, OneAddressCreatesAccountsAtABoundedRate) {
  std::vector<std::shared_ptr<ReplySlot>> burst;
  for (int i = 0; i < 30; ++i) {
    burst.push_back(start("10.5.0.1", protocol::CreateRequest{"b" + std::to_string(i), "pw"}));
    finish({burst.back()});
    EXPECT_TRUE((*burst.back())->isOk()) << i << ": " << (*burst.back())->error;
  }
  auto refused = start("10.5.0.1", protocol::CreateRequest{"one-more", "pw"});
  ASSERT_TRUE(refused->has_value());
  EXPECT_EQ((*refused)->code, ErrorCode::kTooManyAttempts);
  EXPECT_NE((*refused)->error.find("too many new accounts from this address; wait 2 s"),
            std::string::npos)
      << (*refused)->error;
  auto elsewhere = start("10.5.0.2", protocol::CreateRequest{"elsewhere", "pw"});
  finish({elsewhere});
  EXPECT_TRUE((*elsewhere)->isOk());
  clock_.advance(2s);  // 30 a minute: one every two seconds
  auto later = start("10.5.0.1", protocol::CreateRequest{"one-more", "pw"});
  finish({later});
  EXPECT_TRUE((*later)->isOk()) << (*later)->error;
}

}  // namespace
}  // namespace chat::service
