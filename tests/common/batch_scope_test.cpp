// BatchScope: flushes run once, in registration order, when the outermost scope closes;
// nested scopes join it; what a flush hands over goes directly.
#include "chat/common/batch_scope.h"

#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace chat {
namespace {

TEST(BatchScopeTest, FlushesRunInOrderWhenTheOutermostScopeCloses) {
  std::string trace;
  EXPECT_EQ(BatchScope::current(), nullptr);
  {
    BatchScope outer;
    EXPECT_EQ(BatchScope::current(), &outer);
    BatchScope::current()->atEnd([&] { trace += "a"; });
    {
      BatchScope inner;  // joins the outer one
      EXPECT_EQ(BatchScope::current(), &outer);
      BatchScope::current()->atEnd([&] { trace += "b"; });
    }
    EXPECT_EQ(trace, "");
  }
  EXPECT_EQ(trace, "ab");
  EXPECT_EQ(BatchScope::current(), nullptr);
}

TEST(BatchScopeTest, AFlushSeesNoOpenScope) {
  bool sawScope = true;
  {
    BatchScope scope;
    scope.atEnd([&] { sawScope = BatchScope::current() != nullptr; });
  }
  EXPECT_FALSE(sawScope);
}

TEST(BatchScopeTest, ScopesBelongToTheirThread) {
  BatchScope here;
  BatchScope* seenThere = &here;
  std::thread([&] { seenThere = BatchScope::current(); }).join();
  EXPECT_EQ(seenThere, nullptr);
}

}  // namespace
}  // namespace chat
