// Random: seeded pseudo-random numbers behind an interface, so that simulations and tests
// replay exactly. Thread contract: not thread-safe; one instance per thread.
#ifndef CHAT_COMMON_RANDOM_H_
#define CHAT_COMMON_RANDOM_H_

#include <cstdint>
#include <random>

namespace chat {

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // A seed from the OS entropy source, for production use.
  static uint64_t entropySeed();
  uint64_t next() { return engine_(); }
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  uint64_t uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(engine_);
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace chat

#endif  // CHAT_COMMON_RANDOM_H_
