#include "chat/storage/operation.h"

#include <gtest/gtest.h>

namespace chat::storage {
namespace {

TEST(OperationTest, EveryKindRoundTrips) {
  std::vector<Operation> ops = {
      CreateAccountOp{"alice", "$argon2id$...", 5},
      DeleteAccountOp{"alice", 3},
      StoreMessageOp{"alice", "bob", "hi\n", 6, 99, 3},
      MarkDeliveredOp{"bob", {1, 2, 3}, 7, 4},
      SetLastSeenOp{"bob", 8, 4},
      NoOp{},
      EndSessionsOp{"bob", 4, 9},
      CreateRoomOp{"alice", 3, "#General", RoomPolicy::kInviteByOwner, 10},
      JoinRoomOp{"bob", 4, "#general", 11},
      LeaveRoomOp{"bob", 4, "#general", 12},
      InviteToRoomOp{"alice", 3, "#general", "carol", 13},
      StoreRoomMessageOp{"alice", 3, "#general", "hi all\n", 14, 77},
      SetReadMarkerOp{"bob", 4, "#general", 14, 15},
      AckBatchOp{{{"bob", 4, {1, 2}}, {"carol", 5, {}}, {"dan", 6, {9}}}, 16},
  };
  for (const auto& op : ops) {
    auto bytes = encodeOperation(op);
    auto decoded = decodeOperation(bytes);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().toString();
    EXPECT_EQ(*decoded, op) << operationName(op);
  }
}

TEST(OperationTest, EmptyPayloadIsTheLeadersNoOp) {
  // RaftCore appends an empty payload when it is elected; every node applies it as a no-op.
  auto decoded = decodeOperation(std::span<const uint8_t>());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, Operation{NoOp{}});
}

TEST(OperationTest, RecordsWrittenBeforeTheUidFieldsReadAsByName) {
  // A log written by an older node ends these records before the uid: they read with uid 0.
  for (Operation op : std::vector<Operation>{DeleteAccountOp{"alice", 3},
                                             StoreMessageOp{"alice", "bob", "hi", 6, 99, 3},
                                             MarkDeliveredOp{"bob", {1, 2}, 7, 4},
                                             SetLastSeenOp{"bob", 8, 4}}) {
    auto bytes = encodeOperation(op);
    bytes.resize(bytes.size() - 8);
    auto decoded = decodeOperation(bytes);
    ASSERT_TRUE(decoded.has_value()) << operationName(op) << ": " << decoded.error().toString();
    std::visit([](auto& o) {
      if constexpr (requires { o.uid; }) { o.uid = 0; }
      if constexpr (requires { o.senderUid; }) { o.senderUid = 0; }
      if constexpr (requires { o.recipientUid; }) { o.recipientUid = 0; }
    }, op);
    EXPECT_EQ(*decoded, op) << operationName(op);
  }
}

TEST(OperationTest, CorruptBytesAreErrorsNotCrashes) {
  auto bytes = encodeOperation(StoreMessageOp{"a", "b", "x", 1, 0, 5});
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    if (cut == bytes.size() - 8) {
      continue;  // an older record without the optional uid (the test above)
    }
    auto decoded = decodeOperation(std::span(bytes).first(cut));
    EXPECT_FALSE(decoded.has_value()) << cut;
  }
  std::vector<uint8_t> unknown = {42};
  EXPECT_EQ(decodeOperation(unknown).error().code(), StatusCode::kCorruption);
  std::vector<uint8_t> hugeList = {3, 0, 0, 0, 1, 'b', 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_FALSE(decodeOperation(hugeList).has_value());
}

}  // namespace
}  // namespace chat::storage
