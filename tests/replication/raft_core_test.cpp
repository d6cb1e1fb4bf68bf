// Targeted cases of the replication core, each a rule of Raft that a random simulation
// reaches only rarely.
#include "chat/replication/raft_core.h"

#include <gtest/gtest.h>

namespace chat::replication {
namespace {

using std::chrono::milliseconds;

RaftConfig config(NodeId self, size_t n = 5) {
  RaftConfig c;
  c.self = self;
  for (NodeId i = 1; i <= n; ++i) {
    c.members.push_back(i);
  }
  c.heartbeat = milliseconds(50);
  c.electionTimeout = milliseconds(300);
  c.electionStep = milliseconds(100);
  return c;
}

log::Entry bareEntry(uint64_t epoch, uint64_t index) {
  return log::Entry{epoch, index, {}};
}

// Makes `core` leader of its next epoch with the votes of `voters`.
void elect(RaftCore& core, std::vector<NodeId> voters, MonoTime now) {
  core.campaignNow(now);
  (void)core.takeReady();
  for (NodeId v : voters) {
    core.step(Envelope{v, core.self(), VoteReply{core.epoch(), true, false}}, now);
  }
  ASSERT_EQ(core.role(), Role::kLeader);
}

TEST(RaftCoreTest, ALeaderCommitsOlderEntriesOnlyThroughOneOfItsOwnEpoch) {
  // Raft's figure 8: node 1 holds index 2 from epoch 2, leads epoch 4, and gets index 2
  // onto a majority (1, 2, 3). Counting replicas must not commit it: a node with an epoch-3
  // entry at index 2 could still win and overwrite it.
  Random random(1);
  MonoTime now{};
  RaftCore core(config(1), HardState{3, kNoNode}, {bareEntry(1, 1), bareEntry(2, 2)}, 1, random, now);
  elect(core, {2, 3}, now);
  EXPECT_EQ(core.epoch(), 4u);
  EXPECT_EQ(core.lastIndex(), 3u);  // the new leader's no-op
  (void)core.takeReady();
  core.persisted(core.lastIndex());  // the host wrote it (host contract)
  core.step(Envelope{2, 1, AppendReply{4, true, 2}}, now);
  core.step(Envelope{3, 1, AppendReply{4, true, 2}}, now);
  EXPECT_EQ(core.commitIndex(), 1u);
  core.step(Envelope{2, 1, AppendReply{4, true, 3}}, now);
  core.step(Envelope{3, 1, AppendReply{4, true, 3}}, now);
  EXPECT_EQ(core.commitIndex(), 3u);
  Ready ready = core.takeReady();
  ASSERT_EQ(ready.committed.size(), 2u);  // 2 and 3, each once
  EXPECT_EQ(ready.committed[0].index, 2u);
}

TEST(RaftCoreTest, VotesGoOnlyToCandidatesWhoseLogIsAtLeastAsUpToDate) {
  Random random(1);
  MonoTime now{};
  RaftCore voter(config(3), HardState{2, kNoNode}, {bareEntry(1, 1), bareEntry(2, 2)}, 0, random, now);
  voter.step(Envelope{1, 3, VoteRequest{3, 1, 5, 1, false, false}}, now);  // older last epoch
  Ready r = voter.takeReady();
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_FALSE(std::get<VoteReply>(r.messages[0].message).granted);
  voter.step(Envelope{2, 3, VoteRequest{3, 2, 2, 2, false, false}}, now);
  r = voter.takeReady();
  EXPECT_TRUE(std::get<VoteReply>(r.messages[0].message).granted);
  ASSERT_TRUE(r.hardState.has_value());  // the vote is persisted before the reply goes out
  EXPECT_EQ(r.hardState->votedFor, 2u);
  // One vote per epoch.
  voter.step(Envelope{4, 3, VoteRequest{3, 4, 9, 2, false, false}}, now);
  EXPECT_FALSE(std::get<VoteReply>(voter.takeReady().messages[0].message).granted);
}

TEST(RaftCoreTest, AFollowerHearingItsLeaderIgnoresDisruptiveCandidates) {
  Random random(1);
  MonoTime now{};
  RaftCore follower(config(3), HardState{2, kNoNode}, {}, 0, random, now);
  follower.step(Envelope{1, 3, AppendRequest{2, 1, 0, 0, {}, 0}}, now);
  (void)follower.takeReady();
  now += milliseconds(100);
  follower.step(Envelope{5, 3, VoteRequest{3, 5, 0, 0, false, false}}, now);
  Ready r = follower.takeReady();
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(follower.epoch(), 2u);  // not dragged into epoch 3
  // A leadership transfer is not disruptive: it is asked for.
  follower.step(Envelope{5, 3, VoteRequest{3, 5, 0, 0, false, true}}, now);
  r = follower.takeReady();
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_TRUE(std::get<VoteReply>(r.messages[0].message).granted);
}

TEST(RaftCoreTest, TheFirstInSuccessionOrderStandsFirst) {
  Random random(1);
  MonoTime start{};
  std::vector<std::unique_ptr<RaftCore>> cores;
  for (NodeId id = 1; id <= 3; ++id) {
    cores.push_back(std::make_unique<RaftCore>(config(id, 3), HardState{},
                                               std::vector<log::Entry>{}, 0, random, start));
  }
  // Node 1 is down: node 2 must time out before node 3.
  MonoTime now = start;
  for (int ms = 0; ms < 1000; ++ms) {
    now += milliseconds(1);
    cores[1]->tick(now);
    cores[2]->tick(now);
    if (cores[1]->role() != Role::kFollower || cores[2]->role() != Role::kFollower) {
      break;
    }
  }
  EXPECT_EQ(cores[1]->role(), Role::kPreCandidate);
  EXPECT_EQ(cores[2]->role(), Role::kFollower);
}

TEST(RaftCoreTest, ALeaderCutOffFromTheMajorityStepsDown) {
  Random random(1);
  MonoTime now{};
  RaftCore core(config(1, 3), HardState{1, kNoNode}, {}, 0, random, now);
  elect(core, {2}, now);
  for (int ms = 0; ms < 1000 && core.role() == Role::kLeader; ++ms) {
    now += milliseconds(1);
    core.tick(now);
    (void)core.takeReady();
  }
  EXPECT_EQ(core.role(), Role::kFollower);
  EXPECT_FALSE(core.propose(log::Payload{}).has_value());
}

TEST(RaftCoreTest, AFollowerTruncatesADivergentSuffixButNeverACommittedEntry) {
  Random random(1);
  MonoTime now{};
  RaftCore follower(config(2), HardState{2, kNoNode}, {bareEntry(1, 1), bareEntry(2, 2), bareEntry(2, 3)}, 0,
                    random, now);
  // The epoch-3 leader has index 2 from epoch 3: entries 2 and 3 of epoch 2 must go.
  follower.step(Envelope{1, 2, AppendRequest{3, 1, 1, 1, {bareEntry(3, 2)}, 2}}, now);
  Ready r = follower.takeReady();
  ASSERT_TRUE(r.truncateFrom.has_value());
  EXPECT_EQ(*r.truncateFrom, 2u);
  ASSERT_EQ(r.append.size(), 1u);
  EXPECT_EQ(r.append[0].epoch, 3u);
  EXPECT_EQ(follower.lastIndex(), 2u);
  EXPECT_EQ(follower.commitIndex(), 2u);
  ASSERT_EQ(r.committed.size(), 2u);
  EXPECT_TRUE(std::get<AppendReply>(r.messages[0].message).success);
}

// A peer that proved the secret can still be broken or hostile: what no correct member sends
// is refused with a reason (the node logs it), changes nothing, and never aborts the node.
TEST(RaftCoreTest, MessagesNoCorrectMemberSendsAreRefusedNotAsserted) {
  Random random(3);
  MonoTime now{};
  RaftCore core(config(1, 3), HardState{2, kNoNode}, {bareEntry(1, 1), bareEntry(2, 2)}, 2, random, now);
  (void)core.takeReady();
  // A vote asked for by node 2 on behalf of node 3.
  std::string why = core.step(Envelope{2, 1, VoteRequest{9, 3, 5, 5, false, true}}, now);
  EXPECT_NE(why.find("asked for a vote for node 3"), std::string::npos) << why;
  EXPECT_EQ(core.epoch(), 2u);
  EXPECT_TRUE(core.takeReady().empty());
  // Entries with a gap, entries sent in another's name, a sender outside the cluster.
  why = core.step(Envelope{2, 1, AppendRequest{3, 2, 2, 2, {bareEntry(3, 3), bareEntry(3, 5)}, 2}}, now);
  EXPECT_NE(why.find("entry 5 is not at position 4"), std::string::npos) << why;
  why = core.step(Envelope{2, 1, AppendRequest{3, 3, 2, 2, {bareEntry(3, 3)}, 2}}, now);
  EXPECT_NE(why.find("as leader 3"), std::string::npos) << why;
  why = core.step(Envelope{7, 1, AppendRequest{3, 7, 2, 2, {bareEntry(3, 3)}, 2}}, now);
  EXPECT_NE(why.find("not another member"), std::string::npos) << why;
  // An entry that contradicts a committed one (index 2 of epoch 2 is committed here): the
  // core used to CHECK-abort on it.
  why = core.step(Envelope{2, 1, AppendRequest{3, 2, 1, 1, {bareEntry(3, 2), bareEntry(3, 3)}, 3}}, now);
  EXPECT_NE(why.find("contradicts a committed entry"), std::string::npos) << why;
  EXPECT_EQ(core.lastIndex(), 2u);
  EXPECT_EQ(core.epoch(), 2u);
  EXPECT_TRUE(core.takeReady().empty());
  // A well-formed append is still taken.
  EXPECT_EQ(core.step(Envelope{2, 1, AppendRequest{3, 2, 2, 2, {bareEntry(3, 3)}, 2}}, now), "");
  EXPECT_EQ(core.lastIndex(), 3u);
}

}  // namespace
}  // namespace chat::replication
