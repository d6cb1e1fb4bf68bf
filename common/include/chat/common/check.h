// CHAT_CHECK: a broken invariant is a bug; log where and abort, in every build type.
// Never used for untrusted input, which gets a Status instead.
#ifndef CHAT_COMMON_CHECK_H_
#define CHAT_COMMON_CHECK_H_

namespace chat::detail {
[[noreturn]] void checkFailed(const char* expr, const char* file, int line);
}  // namespace chat::detail

#define CHAT_CHECK(cond)                                      \
  do {                                                        \
    if (!(cond)) {                                            \
      ::chat::detail::checkFailed(#cond, __FILE__, __LINE__); \
    }                                                         \
  } while (false)

#endif  // CHAT_COMMON_CHECK_H_
