// The driver of the bounded fuzz runs in ctest (and of any build without libFuzzer): links
// with one fuzz target's LLVMFuzzerTestOneInput, runs every file of a corpus folder through
// it, then as many seeded mutations of them (bit flips, byte changes, insertions, deletions,
// truncations, splices of two inputs, runs of random bytes). Not coverage-guided: the
// libFuzzer build does that (docs/testing.md); this keeps every seed and a few hundred
// thousand of their neighbours checked on every test run, under the sanitizers too.
//   <target>-replay CORPUS_DIR [--mutations N] [--seed S]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Bytes = std::vector<uint8_t>;

Bytes mutate(const std::vector<Bytes>& corpus, std::mt19937_64& random) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  Bytes b = corpus[pick(corpus.size())];
  int rounds = 1 + static_cast<int>(pick(4));
  for (int r = 0; r < rounds; ++r) {
    switch (pick(7)) {
      case 0:  // flip a bit
        if (!b.empty()) {
          b[pick(b.size())] ^= static_cast<uint8_t>(1u << pick(8));
        }
        break;
      case 1:  // an interesting byte
        if (!b.empty()) {
          static constexpr uint8_t kBytes[] = {0, 1, 0x7f, 0x80, 0xff, '\n', ' ', 0xc3, 0xe4};
          b[pick(b.size())] = kBytes[pick(std::size(kBytes))];
        }
        break;
      case 2:  // insert random bytes
        {
          size_t at = b.empty() ? 0 : pick(b.size() + 1);
          size_t n = 1 + pick(16);
          for (size_t i = 0; i < n; ++i) {
            b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(pick(256)));
          }
        }
        break;
      case 3:  // delete a range
        if (!b.empty()) {
          size_t at = pick(b.size());
          size_t n = std::min(b.size() - at, 1 + pick(16));
          b.erase(b.begin() + static_cast<std::ptrdiff_t>(at),
                  b.begin() + static_cast<std::ptrdiff_t>(at + n));
        }
        break;
      case 4:  // truncate
        if (!b.empty()) {
          b.resize(pick(b.size()));
        }
        break;
      case 5:  // splice another input in
        {
          const Bytes& other = corpus[pick(corpus.size())];
          if (!other.empty()) {
            size_t from = pick(other.size());
            size_t at = b.empty() ? 0 : pick(b.size() + 1);
            b.insert(b.begin() + static_cast<std::ptrdiff_t>(at),
                     other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
          }
        }
        break;
      default:  // overwrite a 4- or 8-byte field with an extreme value
        if (b.size() >= 8) {
          size_t at = pick(b.size() - 7);
          uint8_t fill = pick(2) == 0 ? 0xff : 0x00;
          size_t n = pick(2) == 0 ? 4 : 8;
          for (size_t i = 0; i < n; ++i) {
            b[at + i] = fill;
          }
        }
        break;
    }
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [--mutations N] [--seed S]\n", argv[0]);
    return 2;
  }
  long mutations = 200000;
  uint64_t seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--mutations") {
      mutations = std::atol(argv[i + 1]);
    } else if (a == "--seed") {
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  std::vector<Bytes> corpus;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1], ec)) {
    std::ifstream in(entry.path(), std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (ec || corpus.empty()) {
    std::fprintf(stderr, "%s: no corpus in %s\n", argv[0], argv[1]);
    return 2;
  }
  auto started = std::chrono::steady_clock::now();
  for (const auto& input : corpus) {
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::mt19937_64 random(seed);
  for (long i = 0; i < mutations; ++i) {
    Bytes b = mutate(corpus, random);
    LLVMFuzzerTestOneInput(b.data(), b.size());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%s: %zu seeds and %ld mutations in %.1f s, no finding\n", argv[0], corpus.size(),
              mutations, seconds);
  return 0;
}
