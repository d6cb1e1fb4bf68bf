// eventually: the one way tests wait for something to become true. Polls `condition` until it
// holds or `within` has passed, and says which; the caller asserts on the result, so a wait
// that runs out fails the test at the line that waited, with the caller's message.
#ifndef CHAT_TESTS_SUPPORT_EVENTUALLY_H_
#define CHAT_TESTS_SUPPORT_EVENTUALLY_H_

#include <chrono>
#include <thread>

namespace chat::testing {

template <class Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds within,
                std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(every);
  }
  return true;
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_EVENTUALLY_H_
