#include "chat/common/metrics.h"

#include <cmath>
#include <cstdio>

namespace chat {

void LatencyHistogram::observe(std::chrono::nanoseconds latency) {
  int64_t nanos = std::max<int64_t>(0, latency.count());
  double seconds = static_cast<double>(nanos) / 1e9;
  size_t bucket = kBoundsSeconds.size();  // +Inf
  for (size_t i = 0; i < kBoundsSeconds.size(); ++i) {
    if (seconds <= kBoundsSeconds[i]) {
      bucket = i;
      break;
    }
  }
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sumNanos_.fetch_add(static_cast<uint64_t>(nanos), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i < kBoundsSeconds.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  // The count includes +Inf; never below the last finite bucket, so the series stays
  // monotonic even when read mid-update.
  s.count = std::max(running + buckets_.back().load(std::memory_order_relaxed),
                     count_.load(std::memory_order_relaxed));
  s.sumSeconds = static_cast<double>(sumNanos_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

namespace {

// Integers print without a fraction; everything else with enough digits to round-trip.
std::string formatValue(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

// The format escapes backslash and newline in HELP texts, and the double quote as well in
// label values.
std::string escape(std::string_view v, bool quotes) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void PrometheusText::header(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape(help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      out_ += (i == 0 ? "" : ",") + labels[i].first + "=\"" + escape(labels[i].second, true) +
              "\"";
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += formatValue(value);
  out_ += '\n';
}

void PrometheusText::counter(std::string_view name, std::string_view help, uint64_t value) {
  header(name, help, "counter");
  sample(name, {}, static_cast<double>(value));
}

void PrometheusText::gauge(std::string_view name, std::string_view help, double value) {
  header(name, help, "gauge");
  sample(name, {}, value);
}

void PrometheusText::gauges(std::string_view name, std::string_view help,
                            const std::vector<std::pair<Labels, double>>& samples) {
  header(name, help, "gauge");
  for (const auto& [labels, value] : samples) {
    sample(name, labels, value);
  }
}

void PrometheusText::histogram(std::string_view name, std::string_view help,
                               const LatencyHistogram::Snapshot& s) {
  header(name, help, "histogram");
  std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < s.cumulative.size(); ++i) {
    sample(bucket, {{"le", formatValue(LatencyHistogram::kBoundsSeconds[i])}},
           static_cast<double>(s.cumulative[i]));
  }
  sample(bucket, {{"le", "+Inf"}}, static_cast<double>(s.count));
  sample(std::string(name) + "_sum", {}, s.sumSeconds);
  sample(std::string(name) + "_count", {}, static_cast<double>(s.count));
}

}  // namespace chat
