#include "chat/common/metrics.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/prometheus_text.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using testing::PrometheusSamples;

PrometheusSamples parse(const std::string& text) {
  auto parsed = testing::parsePrometheusText(text);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << *error << "\n" << text;
    return {};
  }
  return std::get<PrometheusSamples>(parsed);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndCountEverything) {
  LatencyHistogram h;
  h.observe(50us);    // <= 0.0001
  h.observe(3ms);     // <= 0.005
  h.observe(3ms);
  h.observe(20s);     // beyond the last bound: +Inf only
  h.observe(-1ms);    // a clock step backwards counts as zero
  auto s = h.snapshot();
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.cumulative[0], 2u);   // 50 us and the negative one
  EXPECT_EQ(s.cumulative[4], 2u);   // <= 2.5 ms
  EXPECT_EQ(s.cumulative[5], 4u);   // <= 5 ms
  EXPECT_EQ(s.cumulative.back(), 4u);
  EXPECT_NEAR(s.sumSeconds, 20.00605, 1e-9);
}

TEST(MetricsTest, TheTextParsesAsPrometheusExposition) {
  Counter received;
  received.add(3);
  LatencyHistogram latency;
  latency.observe(2ms);
  PrometheusText out;
  out.counter("chat_messages_received_total", "Messages stored.\nSecond line \\ too.",
              received.value());
  out.gauge("chat_epoch", "The epoch.", 7);
  out.gauge("chat_uptime_seconds", "Uptime.", 1.25);
  out.gauges("chat_replication_lag_entries", "Lag.",
             {{{{"peer", "2"}}, 0}, {{{"peer", "odd \"name\"\\"}}, 12}});
  out.histogram("chat_commit_latency_seconds", "Latency.", latency.snapshot());
  PrometheusSamples s = parse(out.text());
  EXPECT_EQ(s.types["chat_messages_received_total"], "counter");
  EXPECT_EQ(s.types["chat_commit_latency_seconds"], "histogram");
  EXPECT_EQ(s.at("chat_messages_received_total"), 3);
  EXPECT_EQ(s.at("chat_epoch"), 7);
  EXPECT_EQ(s.at("chat_uptime_seconds"), 1.25);
  EXPECT_EQ(s.at("chat_replication_lag_entries{peer=\"2\"}"), 0);
  EXPECT_EQ(s.at("chat_replication_lag_entries{peer=\"odd \\\"name\\\"\\\\\"}"), 12);
  EXPECT_EQ(s.at("chat_commit_latency_seconds_bucket{le=\"0.001\"}"), 0);
  EXPECT_EQ(s.at("chat_commit_latency_seconds_bucket{le=\"0.0025\"}"), 1);
  EXPECT_EQ(s.at("chat_commit_latency_seconds_bucket{le=\"+Inf\"}"), 1);
  EXPECT_EQ(s.at("chat_commit_latency_seconds_count"), 1);
  EXPECT_NEAR(s.at("chat_commit_latency_seconds_sum"), 0.002, 1e-12);
}

TEST(MetricsTest, TheReaderRejectsWhatPrometheusWould) {
  for (const char* bad : {
           "x 1\n",                                      // no TYPE
           "# TYPE x counter\nx one\n",                  // not a number
           "# TYPE x counter\nx{a=\"b} 1\n",             // unterminated label
           "# TYPE x counter\nx 1",                      // no final newline
           "# TYPE 9x counter\n9x 1\n",                  // bad name
           "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
       }) {
    EXPECT_TRUE(std::holds_alternative<std::string>(testing::parsePrometheusText(bad))) << bad;
  }
}

TEST(MetricsTest, CountersAddUpAcrossThreads) {
  Counter c;
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.add();
        h.observe(1ms);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.snapshot().count, 40000u);
}

}  // namespace
}  // namespace chat
