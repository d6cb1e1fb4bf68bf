#include "chat/replication/peer_codec.h"

#include <gtest/gtest.h>

namespace chat::replication {
namespace {

TEST(PeerCodecTest, EveryMessageRoundTrips) {
  std::vector<Envelope> all = {
      {1, 2, VoteRequest{7, 1, 100, 6, true, false}},
      {2, 1, VoteReply{7, true, true}},
      {1, 3,
       AppendRequest{
           7,
           1,
           99,
           6,
           {{7, 100, {1, 2, 3, 'h', 'i'}}, {7, 101, {}}},
           98}},
      {1, 3, AppendRequest{7, 1, 101, 7, {}, 101}},
      {3, 1, AppendReply{7, false, 42}},
      {1, 4, TimeoutNow{7}},
  };
  for (const auto& e : all) {
    auto bytes = encodeEnvelope(e);
    auto back = decodeEnvelope(bytes);
    ASSERT_TRUE(back.has_value()) << back.error().toString();
    EXPECT_EQ(*back, e);
  }
}

TEST(PeerCodecTest, TruncatedOrPaddedMessagesAreCorruptionNotCrashes) {
  Envelope e{
      1, 3,
      AppendRequest{7, 1, 99, 6, {{7, 100, {2, 0, 0, 0, 1, 'a'}}}, 98}};
  auto bytes = encodeEnvelope(e);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    auto r = decodeEnvelope(std::span(bytes).first(cut));
    ASSERT_FALSE(r.has_value()) << cut;
    EXPECT_EQ(r.error().code(), StatusCode::kCorruption);
  }
  bytes.push_back(0);
  EXPECT_FALSE(decodeEnvelope(bytes).has_value());
  std::vector<uint8_t> unknown = {9, 0, 0, 0, 1, 0, 0, 0, 2};
  EXPECT_FALSE(decodeEnvelope(unknown).has_value());
  // An entry count far beyond the bytes present is refused before any allocation.
  std::vector<uint8_t> huge = encodeEnvelope({1, 2, AppendRequest{1, 1, 0, 0, {}, 0}});
  huge[huge.size() - 4] = 0xFF;
  EXPECT_FALSE(decodeEnvelope(huge).has_value());
}

TEST(PeerCodecTest, AnEntryWhosePayloadFailsItsCrcIsRefused) {
  // A follower writes what it receives to its log as it is: damage on the way must not get
  // there. Any single flipped bit of the payload is caught.
  std::vector<uint8_t> payload = {'p', 'a', 'y', 'l', 'o', 'a', 'd'};
  auto bytes = encodeEnvelope({1, 2, AppendRequest{7, 1, 0, 0, {{7, 1, payload}}, 0}});
  size_t at = bytes.size() - payload.size();
  ASSERT_TRUE(decodeEnvelope(bytes).has_value());
  for (size_t i = at; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto damaged = bytes;
      damaged[i] ^= static_cast<uint8_t>(1 << bit);
      auto r = decodeEnvelope(damaged);
      ASSERT_FALSE(r.has_value()) << i << " " << bit;
      EXPECT_NE(r.error().message().find("CRC32C"), std::string::npos) << r.error().message();
    }
  }
}

TEST(PeerCodecTest, FlagsOtherThanZeroOrOneAreRefused) {
  // Found by peer-fuzz: a flag byte of 2 decoded as true and re-encoded as 1.
  auto bytes = encodeEnvelope({2, 1, VoteReply{7, true, false}});
  bytes[bytes.size() - 2] = 2;  // the "granted" byte
  auto r = decodeEnvelope(bytes);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("neither 0 nor 1"), std::string::npos);
}

}  // namespace
}  // namespace chat::replication
