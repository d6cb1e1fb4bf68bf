// Metrics: lock-free counters and a fixed-bucket latency histogram that hot paths update,
// and PrometheusText, which renders them (with gauges read at scrape time) in the
// Prometheus text exposition format (version 0.0.4) for a node's /metrics.
//
// Thread contract: Counter and Histogram are updated and read from any thread (relaxed
// atomics: a scrape may see a histogram mid-update, off by the one observation in flight,
// which Prometheus tolerates). PrometheusText is single-threaded.
#ifndef CHAT_COMMON_METRICS_H_
#define CHAT_COMMON_METRICS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat {

class Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Latencies in fixed buckets from 0.1 ms to 10 s (about three per decade), enough to tell
// a group commit (a few ms) from an fsync queue or an election (hundreds of ms).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 16> kBoundsSeconds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};

  void observe(std::chrono::nanoseconds latency);

  struct Snapshot {
    std::array<uint64_t, kBoundsSeconds.size()> cumulative{};  // observations <= each bound
    uint64_t count = 0;
    double sumSeconds = 0;
  };
  Snapshot snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBoundsSeconds.size() + 1> buckets_{};  // last: +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sumNanos_{0};
};

// Builds one exposition. Each family is written once with its HELP and TYPE lines; label
// values are escaped as the format requires.
class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  void counter(std::string_view name, std::string_view help, uint64_t value);
  void gauge(std::string_view name, std::string_view help, double value);
  // One gauge family with a sample per label set, e.g. lag per follower.
  void gauges(std::string_view name, std::string_view help,
              const std::vector<std::pair<Labels, double>>& samples);
  void histogram(std::string_view name, std::string_view help,
                 const LatencyHistogram::Snapshot& snapshot);

  const std::string& text() const { return out_; }

 private:
  void header(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const Labels& labels, double value);

  std::string out_;
};

}  // namespace chat

#endif  // CHAT_COMMON_METRICS_H_
