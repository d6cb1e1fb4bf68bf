#include "chat/common/batch_scope.h"

namespace chat {

namespace {
thread_local BatchScope* tOpen = nullptr;
}  // namespace

BatchScope::BatchScope() : outermost_(tOpen == nullptr) {
  if (outermost_) {
    tOpen = this;
  }
}

BatchScope::~BatchScope() {
  if (!outermost_) {
    return;
  }
  // Closed before flushing: what the flushes hand over goes directly.
  tOpen = nullptr;
  for (auto& flush : flushes_) {
    flush();
  }
}

BatchScope* BatchScope::current() {
  return tOpen;
}

void BatchScope::atEnd(std::function<void()> flush) {
  flushes_.push_back(std::move(flush));
}

}  // namespace chat
