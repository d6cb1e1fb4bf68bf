#include "chat/replication/peer_transport.h"

namespace chat::replication {

class LocalTransportHub::Endpoint final : public PeerTransport {
 public:
  Endpoint(LocalTransportHub& hub, NodeId id) : hub_(hub), id_(id) {}
  void send(Envelope envelope) override { hub_.deliver(std::move(envelope)); }
  void setHandler(Handler handler) override {
    MutexLock lock(hub_.mu_);
    hub_.handlers_[id_] = std::move(handler);
  }

 private:
  LocalTransportHub& hub_;
  NodeId id_;
};

std::unique_ptr<PeerTransport> LocalTransportHub::attach(NodeId id) {
  return std::make_unique<Endpoint>(*this, id);
}

void LocalTransportHub::cut(NodeId node) {
  MutexLock lock(mu_);
  cut_.insert(node);
}

void LocalTransportHub::heal() {
  MutexLock lock(mu_);
  cut_.clear();
}

void LocalTransportHub::deliver(Envelope envelope) {
  PeerTransport::Handler handler;
  {
    MutexLock lock(mu_);
    if (cut_.contains(envelope.from) || cut_.contains(envelope.to)) {
      return;
    }
    auto it = handlers_.find(envelope.to);
    if (it == handlers_.end()) {
      return;
    }
    handler = it->second;
  }
  handler(std::move(envelope));
}

}  // namespace chat::replication
