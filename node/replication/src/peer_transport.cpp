#include "chat/replication/peer_transport.h"

#include <filesystem>

namespace chat::replication {

class LocalTransportHub::Endpoint final : public PeerTransport {
 public:
  Endpoint(LocalTransportHub& hub, NodeId id) : hub_(hub), id_(id) {}
  void send(Envelope envelope) override { hub_.deliver(std::move(envelope)); }
  void setHandler(Handler handler) override {
    MutexLock lock(hub_.mu_);
    hub_.handlers_[id_] = std::move(handler);
  }
  void setSnapshotProvider(SnapshotProvider provider) override {
    MutexLock lock(hub_.mu_);
    hub_.providers_[id_] = std::move(provider);
  }
  Status fetchSnapshot(NodeId peer, const std::string& path, std::stop_token) override {
    return hub_.fetch(peer, id_, path);
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

Status LocalTransportHub::fetch(NodeId from, NodeId to, const std::string& path) {
  PeerTransport::SnapshotProvider provider;
  {
    MutexLock lock(mu_);
    auto it = providers_.find(from);
    if (cut_.contains(from) || cut_.contains(to) || it == providers_.end()) {
      return Status::unavailable("node " + std::to_string(from) + " cannot be reached");
    }
    provider = it->second;
  }
  auto written = provider();
  if (!written) {
    return Status::unavailable("node " + std::to_string(from) + " has no snapshot: " +
                               written.error().message());
  }
  std::error_code ec;
  std::filesystem::rename(*written, path, ec);
  if (ec) {
    return Status::ioError("cannot move the snapshot to " + path + ": " + ec.message());
  }
  return Status::ok();
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
