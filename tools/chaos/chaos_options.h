// chat-chaos's command line.
// Thread contract: plain values.
#ifndef CHAT_TOOLS_CHAOS_CHAOS_OPTIONS_H_
#define CHAT_TOOLS_CHAOS_CHAOS_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "chat/common/command_line.h"
#include "chat/common/status.h"

namespace chat::chaos {

struct ChaosOptions {
  int nodes = 3;              // the cluster chat-chaos makes (ports chosen free)
  uint64_t seed = 0;          // 0: a random one (printed, so the run can be replayed)
  double seconds = 60;        // of load and faults, before the cluster settles
  int rate = 1000;            // messages per second, all users together
  int users = 8;              // each sends to the others and receives from them
  int roomPercent = 20;       // of the sends go to a room all users are in (#chaos)
  std::chrono::milliseconds faultEvery{1000};  // mean time between faults
  std::chrono::milliseconds requestTimeout{30000};  // the clients give a send up after this
  std::string runDir;         // cluster file, node data and logs; default a temp folder
  bool keep = false;          // keep runDir afterwards
  std::string supervisorBinary;  // default: the suite's chat-supervisor
  std::string nodeBinary;        // default: the suite's chat-node
  bool partitions = false;  // also cut the leader off from its replicas (root: namespaces)
  bool json = false;
  bool quiet = false;  // no progress lines
};

extern const char* const kChaosUsage;

// Errors (kInvalidArgument) name the option and what it takes. `help` is set for --help.
Result<CommandLine::Outcome> parseChaosOptions(int argc, char** argv, ChaosOptions& out);

}  // namespace chat::chaos

#endif  // CHAT_TOOLS_CHAOS_CHAOS_OPTIONS_H_
