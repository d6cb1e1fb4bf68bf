// chat-chaos: faults under load, then a check that nothing acknowledged was lost or doubled.
#include <cstdio>

#include "chaos_options.h"
#include "chaos_runner.h"
#include "chat/common/process_info.h"
#include "chat/protocol/suite_version.h"

int main(int argc, char** argv) {
  chat::keepNewFilesPrivate();  // umask 077: what we write holds messages and secrets
  chat::chaos::ChaosOptions parsed;
  if (auto exit = chat::finishCommandLine(
          "chat-chaos", chat::chaos::parseChaosOptions(argc, argv, parsed),
          chat::chaos::kChaosUsage, chat::protocol::versionText("chat-chaos"))) {
    return *exit;
  }
  const chat::chaos::ChaosOptions* options = &parsed;
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
