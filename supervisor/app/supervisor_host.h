// SupervisorHost: carries out ClusterSupervisor's decisions with real processes. One loop
// thread waits on child deaths (SIGCHLD through a self-pipe, so a death is seen at once),
// the control socket, status results, the frontend's input and a timer; a poller thread asks
// every node for its status a few times a second (a paused node only slows that thread,
// never the loop or the screen).
// Thread contract: run() on one thread; everything else is called from inside it.
#ifndef CHAT_SUPERVISOR_SUPERVISOR_HOST_H_
#define CHAT_SUPERVISOR_SUPERVISOR_HOST_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chat/cluster/cluster_config.h"
#include "chat/launcher/node_launcher.h"
#include "chat/supervisor/cluster_supervisor.h"
#include "chat/supervisor/control_socket.h"
#include "chat/tls/tls_stream.h"

namespace chat::supervisor {

struct HostOptions {
  std::string clusterFile;
  cluster::ClusterConfig config;
  std::string runDir;
  std::string nodeBinary;
  std::vector<std::string> nodeArgs;  // added to every node's command line
  bool detach = false;                // nodes outlive a killed supervisor
  std::shared_ptr<tls::TlsContext> tls;  // the nodes' client ports speak TLS (cluster tls_ca)
  SupervisorOptions policy;
};

class SupervisorHost;

// What shows the cluster: the headless event printer or the ncurses view.
class Frontend {
 public:
  virtual ~Frontend() = default;
  virtual int inputFd() const { return -1; }  // watched for reading; -1: none
  virtual void onInput(SupervisorHost& host) { (void)host; }
  virtual void onEvents(const std::vector<Event>& events) = 0;
  // Called after anything changed and at least every 250 ms.
  virtual void render(const SupervisorHost& host) { (void)host; }
};

class SupervisorHost {
 public:
  explicit SupervisorHost(HostOptions options);
  ~SupervisorHost();
  SupervisorHost(const SupervisorHost&) = delete;  // owns processes and threads
  SupervisorHost& operator=(const SupervisorHost&) = delete;

  // Starts every node and supervises until stopped (control `stop`, SIGTERM, SIGINT or the
  // frontend). Returns the process exit code.
  int run(Frontend& frontend);

  // A command, as typed on the control socket ("kill leader", "pause 2 force", ...): the
  // answer starts with OK, ERROR or CONFIRM.
  std::string command(const std::string& line);
  void requestStop();

  const ClusterSupervisor& supervisor() const { return supervisor_; }
  const HostOptions& options() const { return options_; }
  MonoTime now() const;
  std::string statusTable() const;
  std::string statusJson() const;

 private:
  struct Impl;
  // run()'s steps: the run folder made and private, the status poller started, and one turn
  // of the loop (false once stopped).
  void prepareRunDir();
  void startPoller();
  bool step(Frontend& frontend, ControlServer& control, MonoTime& lastRender);
  void execute(const std::vector<Action>& actions);
  void spawn(uint32_t id);
  void reap();

  HostOptions options_;
  ClusterSupervisor supervisor_;
  std::map<uint32_t, launcher::ChildProcess> children_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::supervisor

#endif  // CHAT_SUPERVISOR_SUPERVISOR_HOST_H_
