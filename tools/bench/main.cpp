// chat-bench: load and latency for a chat node. See bench_runner.h and docs/benchmarks.md.
#include <cstdio>
#include <iostream>

#include "bench_options.h"
#include "bench_runner.h"
#include "failover_runner.h"
#include "other_server_runner.h"
#include "room_runner.h"
#include "chat/common/process_info.h"
#include "chat/protocol/suite_version.h"

int main(int argc, char** argv) {
  chat::keepNewFilesPrivate();  // umask 077: what we write holds messages and secrets
  chat::bench::BenchOptions parsedOptions;
  if (auto exit = chat::finishCommandLine(
          "chat-bench", chat::bench::parseBenchOptions(argc, argv, parsedOptions),
          chat::bench::benchUsage(), chat::protocol::versionText("chat-bench"))) {
    return *exit;
  }
  const chat::bench::BenchOptions* options = &parsedOptions;
  chat::raiseOpenFileLimit();
  if (options->awaitSeconds > 0) {
    auto waited = chat::bench::awaitNode(*options);
    if (!waited) {
      std::cerr << "chat-bench: " << waited.error().message() << "\n";
      return 1;
    }
    std::cout << "the node answered " << *waited << " ms after chat-bench started waiting\n";
    return 0;
  }
  if (options->failoverKills > 0) {
    auto failover = chat::bench::runFailover(*options);
    if (!failover) {
      std::cerr << "chat-bench: " << failover.error().message() << "\n";
      return 1;
    }
    std::cout << chat::bench::formatFailover(*options, *failover);
    return failover->ok() ? 0 : 1;
  }
  if (options->roomMembers > 0) {
    auto room = options->protocol == chat::bench::BenchProtocol::kChat
                    ? chat::bench::runRoomBench(*options)
                    : chat::bench::runOtherServerRoomBench(*options);
    if (!room) {
      std::cerr << "chat-bench: " << room.error().message() << "\n";
      return 1;
    }
    std::cout << (options->json ? chat::bench::formatRoomResultJson(*options, *room) + "\n"
                                : chat::bench::formatRoomResult(*options, *room));
    return room->ok() ? 0 : 1;
  }
  auto result = options->protocol == chat::bench::BenchProtocol::kChat
                    ? chat::bench::runBench(*options)
                    : chat::bench::runOtherServerBench(*options);
  if (!result) {
    std::cerr << "chat-bench: " << result.error().message() << "\n";
    return 1;
  }
  std::cout << (options->json ? chat::bench::formatResultJson(*options, *result) + "\n"
                              : chat::bench::formatResult(*options, *result));
  return result->ok() ? 0 : 1;
}
