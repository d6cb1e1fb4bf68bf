// chat-chaos: faults under load, then a check that nothing acknowledged was lost or doubled.
#include <cstdio>

#include "chaos_options.h"
#include "chaos_runner.h"
#include "chat/common/process_info.h"

int main(int argc, char** argv) {
  chat::keepNewFilesPrivate();  // umask 077: what we write holds messages and secrets
  bool help = false;
  auto options = chat::chaos::parseChaosOptions(argc, argv, help);
  if (help) {
    std::fputs(chat::chaos::kChaosUsage, stdout);
    return 0;
  }
  if (!options) {
    std::fprintf(stderr, "chat-chaos: %s\n%s", options.error().message().c_str(),
                 chat::chaos::kChaosUsage);
    return 2;
  }
  auto result = chat::chaos::runChaos(*options);
  if (!result) {
    std::fprintf(stderr, "chat-chaos: %s\n", result.error().message().c_str());
    return 2;
  }
  std::fputs(options->json ? chat::chaos::formatChaosJson(*options, *result).c_str()
                           : chat::chaos::formatChaos(*options, *result).c_str(),
             stdout);
  return result->ok() ? 0 : 1;
}
