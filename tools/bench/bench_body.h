// What every chat-bench load shares, whatever server it drives: the body of a benchmark
// message ("<sequence> <send time in ns> " padded with 'x'), reading it back on arrival,
// and latency percentiles.
#ifndef CHAT_TOOLS_BENCH_BENCH_BODY_H_
#define CHAT_TOOLS_BENCH_BENCH_BODY_H_

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::bench {

inline int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::string makeBody(int64_t seq, size_t size) {
  std::string body = std::to_string(seq) + " " + std::to_string(nowNanos()) + " ";
  if (body.size() < size) {
    body.append(size - body.size(), 'x');
  }
  return body;
}

// The sequence number and send time of a body made by makeBody; false for anything else.
inline bool parseBody(std::string_view body, int64_t& seq, int64_t& sentNanos) {
  const char* p = body.data();
  const char* end = p + body.size();
  auto r1 = std::from_chars(p, end, seq);
  if (r1.ec != std::errc() || r1.ptr == end) {
    return false;
  }
  return std::from_chars(r1.ptr + 1, end, sentNanos).ec == std::errc();
}

// The q-quantile of sorted nanosecond latencies, in microseconds.
inline double percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) {
    return 0;
  }
  auto idx = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  return static_cast<double>(sorted[std::min(idx, sorted.size() - 1)]) / 1000.0;
}

}  // namespace chat::bench

#endif  // CHAT_TOOLS_BENCH_BENCH_BODY_H_
