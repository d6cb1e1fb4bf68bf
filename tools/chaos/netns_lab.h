// NetnsLab: a network for chat-chaos's partition runs, made of Linux network namespaces (run
// as root): one namespace per node with its own address on a bridge in the root namespace,
// where the supervisor and the clients stay. cut(i) isolates node i from the other nodes by
// blackhole routes inside its namespace (the clients on the bridge can still reach it: a
// leader cut off from its replicas keeps accepting connections, the case that must not
// acknowledge anything it cannot commit); heal(i) removes them. Everything is torn down by
// the destructor.
// Thread contract: not thread-safe; one owner thread.
#ifndef CHAT_TOOLS_CHAOS_NETNS_LAB_H_
#define CHAT_TOOLS_CHAOS_NETNS_LAB_H_

#include <memory>
#include <string>
#include <vector>

#include "chat/common/status.h"

namespace chat::chaos {

class NetnsLab {
 public:
  // `clients` more namespaces for client programs (clientNetns(k), clientAddress(k)).
  // Errors: kUnavailable with the reason (not root, no `ip`, namespaces not allowed).
  static Result<std::unique_ptr<NetnsLab>> create(int nodes, int clients = 0);
  ~NetnsLab();
  NetnsLab(const NetnsLab&) = delete;  // owns kernel objects
  NetnsLab& operator=(const NetnsLab&) = delete;

  // Node i's address (1-based), e.g. "10.77.12.3".
  std::string address(int node) const;
  // The namespace node i runs in.
  std::string netns(int node) const;
  // Client namespace k (1-based) and its address.
  std::string clientNetns(int k) const { return netns(100 + k); }
  std::string clientAddress(int k) const { return address(100 + k); }
  Status cut(int node);
  Status heal(int node);

 private:
  NetnsLab(int nodes, int clients, std::string tag, std::string subnet)
      : nodes_(nodes), clients_(clients), tag_(std::move(tag)), subnet_(std::move(subnet)) {}
  std::vector<int> members() const;  // node numbers, then 100 + k for clients
  void destroy();

  int nodes_;
  int clients_;
  std::string tag_;     // unique per run, in every name
  std::string subnet_;  // "10.77.12"
  std::vector<bool> cut_;
};

}  // namespace chat::chaos

#endif  // CHAT_TOOLS_CHAOS_NETNS_LAB_H_
