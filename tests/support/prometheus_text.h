// A strict reader of the Prometheus text exposition format (0.0.4) for tests: every line is
// a HELP or TYPE comment or a sample of a family whose TYPE came first; names and label
// names are valid; values parse; a histogram's buckets rise and its +Inf bucket equals its
// count. Returns the samples by "name{labels}" exactly as written, or what is wrong.
#ifndef CHAT_TESTS_SUPPORT_PROMETHEUS_TEXT_H_
#define CHAT_TESTS_SUPPORT_PROMETHEUS_TEXT_H_

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <variant>

namespace chat::testing {

struct PrometheusSamples {
  std::map<std::string, double> values;      // "name" or "name{a=\"b\"}" -> value
  std::map<std::string, std::string> types;  // family -> counter, gauge, histogram, ...
  double at(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? -1 : it->second;
  }
};

namespace prometheus_detail {

inline bool validName(const std::string& n) {
  if (n.empty() || !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_' ||
                     n[0] == ':')) {
    return false;
  }
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':')) {
      return false;
    }
  }
  return true;
}

// The family a sample belongs to: histograms add _bucket, _sum and _count.
inline std::string familyOf(const std::string& name,
                            const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) {
        return base;
      }
    }
  }
  return name;
}

}  // namespace prometheus_detail

// The samples, or an error message naming the line.
inline std::variant<PrometheusSamples, std::string> parsePrometheusText(const std::string& text) {
  using namespace prometheus_detail;
  PrometheusSamples out;
  std::set<std::string> helped;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  std::map<std::string, double> lastBucket;  // histogram family -> last cumulative value
  auto fail = [&](const std::string& why) {
    return "line " + std::to_string(number) + " (" + line + "): " + why;
  };
  if (!text.empty() && text.back() != '\n') {
    return std::string("the text does not end with a newline");
  }
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) {
      continue;
    }
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      if (kind == "HELP") {
        if (!validName(name) || !helped.insert(name).second) {
          return fail("bad or repeated HELP");
        }
      } else if (kind == "TYPE") {
        std::string type;
        words >> type;
        static const std::set<std::string> kTypes{"counter", "gauge", "histogram", "summary",
                                                  "untyped"};
        if (!validName(name) || !kTypes.contains(type) || out.types.contains(name)) {
          return fail("bad or repeated TYPE");
        }
        out.types[name] = type;
      }
      continue;
    }
    size_t nameEnd = line.find_first_of("{ ");
    if (nameEnd == std::string::npos) {
      return fail("no value");
    }
    std::string name = line.substr(0, nameEnd);
    if (!validName(name)) {
      return fail("invalid metric name");
    }
    size_t pos = nameEnd;
    std::string le;
    if (line[pos] == '{') {
      ++pos;
      while (pos < line.size() && line[pos] != '}') {
        size_t eq = line.find('=', pos);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          return fail("label without =\"value\"");
        }
        std::string labelName = line.substr(pos, eq - pos);
        if (!validName(labelName)) {
          return fail("invalid label name");
        }
        std::string value;
        size_t i = eq + 2;
        for (; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\') {
            if (++i >= line.size() || (line[i] != '\\' && line[i] != '"' && line[i] != 'n')) {
              return fail("bad escape in a label value");
            }
          }
          value += line[i];
        }
        if (i >= line.size()) {
          return fail("unterminated label value");
        }
        if (labelName == "le") {
          le = value;
        }
        pos = i + 1;
        if (pos < line.size() && line[pos] == ',') {
          ++pos;
        }
      }
      if (pos >= line.size()) {
        return fail("unterminated labels");
      }
      ++pos;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      return fail("no space before the value");
    }
    std::string key = line.substr(0, pos);
    std::string valueText = line.substr(pos + 1);
    double value = 0;
    if (valueText == "+Inf") {
      value = HUGE_VAL;
    } else if (valueText == "-Inf") {
      value = -HUGE_VAL;
    } else if (valueText != "NaN") {
      char* end = nullptr;
      value = std::strtod(valueText.c_str(), &end);
      if (end == valueText.c_str() || *end != '\0') {
        return fail("the value is not a number");
      }
    }
    std::string family = familyOf(name, out.types);
    auto type = out.types.find(family);
    if (type == out.types.end()) {
      return fail("sample before its TYPE line");
    }
    if ((type->second == "counter" || name.ends_with("_bucket") || name.ends_with("_count")) &&
        value < 0) {
      return fail("a counter below zero");
    }
    if (type->second == "histogram" && name.ends_with("_bucket")) {
      if (le.empty()) {
        return fail("a bucket without le");
      }
      if (value < lastBucket[family]) {
        return fail("buckets must not fall");
      }
      lastBucket[family] = value;
    }
    if (out.values.contains(key)) {
      return fail("the same sample twice");
    }
    out.values[key] = value;
  }
  for (const auto& [family, type] : out.types) {
    if (type == "histogram" &&
        out.at(family + "_bucket{le=\"+Inf\"}") != out.at(family + "_count")) {
      return "histogram " + family + ": the +Inf bucket differs from _count";
    }
  }
  return out;
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_PROMETHEUS_TEXT_H_
