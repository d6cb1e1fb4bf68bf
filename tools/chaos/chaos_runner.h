// runChaos: chat-chaos's run. It writes a cluster file with free loopback ports into the run
// folder, starts chat-supervisor (headless, demo mode: a killed node stays down until
// chat-chaos restarts it) and talks to it only through its control socket; creates the
// users; runs the load (one thread per user, each with its own ClusterClient, sending at
// its share of the rate with a unique body per message and acknowledging what it receives)
// while a fault thread follows the FaultPlanner's seeded schedule; then repairs every node,
// lets in-flight sends finish, drains every recipient (pushes, then deliver) and checks the
// history (history_check.h).
// Thread contract: call from one thread; it starts and joins its own threads.
#ifndef CHAT_TOOLS_CHAOS_CHAOS_RUNNER_H_
#define CHAT_TOOLS_CHAOS_CHAOS_RUNNER_H_

#include <cstdint>
#include <map>
#include <string>

#include "chaos_options.h"
#include "chat/common/status.h"
#include "history_check.h"

namespace chat::chaos {

struct ChaosResult {
  uint64_t seed = 0;
  double seconds = 0;                  // of load
  HistoryReport history;      // private messages
  HistoryReport roomHistory;  // room messages, one expected copy per member
  bool ok() const { return history.ok() && roomHistory.ok(); }
  std::map<std::string, int> faults;   // injected, by kind (repairs included)
  int faultCount = 0;                  // kills, pauses (not repairs)
  int refused = 0;                     // faults the supervisor refused (majority)
  int64_t sessionsResumed = 0;         // reconnects the clients rode through
  int64_t sendErrors = 0;              // sends answered with an error (unacknowledged)
};

// Errors: the run could not be made (no supervisor, the cluster did not come up, ...).
Result<ChaosResult> runChaos(const ChaosOptions& options);
std::string formatChaos(const ChaosOptions& options, const ChaosResult& result);
std::string formatChaosJson(const ChaosOptions& options, const ChaosResult& result);

}  // namespace chat::chaos

#endif  // CHAT_TOOLS_CHAOS_CHAOS_RUNNER_H_
