#include "chat/storage/operation.h"

#include <gtest/gtest.h>

namespace chat::storage {
namespace {

TEST(OperationTest, EveryKindRoundTrips) {
  std::vector<Operation> ops = {
      CreateAccountOp{"alice", "$argon2id$...", 5},
      DeleteAccountOp{"alice"},
      StoreMessageOp{"alice", "bob", "hi\n", 6, 99},
      MarkDeliveredOp{"bob", {1, 2, 3}, 7},
      SetLastSeenOp{"bob", 8},
      NoOp{},
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

TEST(OperationTest, CorruptBytesAreErrorsNotCrashes) {
  auto bytes = encodeOperation(StoreMessageOp{"a", "b", "x", 1, 0});
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
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
