#include "chat/replication/socket_peer_transport.h"

#include <sodium.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <thread>
#include <vector>

#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include "chat/common/mutex.h"
#include "chat/common/process_info.h"
#include "chat/replication/peer_codec.h"

namespace chat::replication {

namespace {

constexpr size_t kChallengeBytes = 32;
constexpr size_t kMacBytes = crypto_auth_hmacsha256_BYTES;
constexpr uint32_t kMaxFrameBytes = 64 * 1024 * 1024;
const Poco::Timespan kPollInterval(0, 200 * 1000);

Poco::Logger& logger() {
  return Poco::Logger::get("chat.peer");
}

using Key = std::array<uint8_t, crypto_auth_hmacsha256_KEYBYTES>;

Key deriveKey(const std::string& secret) {
  Key key{};
  crypto_generichash(key.data(), key.size(), reinterpret_cast<const uint8_t*>(secret.data()),
                     secret.size(), nullptr, 0);
  return key;
}

std::array<uint8_t, kMacBytes> proof(const Key& key, const uint8_t* challenge, NodeId id) {
  std::array<uint8_t, kChallengeBytes + 4> message{};
  std::memcpy(message.data(), challenge, kChallengeBytes);
  for (int i = 0; i < 4; ++i) {
    message[kChallengeBytes + static_cast<size_t>(i)] = static_cast<uint8_t>(id >> (24 - 8 * i));
  }
  std::array<uint8_t, kMacBytes> mac{};
  crypto_auth_hmacsha256(mac.data(), message.data(), message.size(), key.data());
  return mac;
}

// Reads exactly n bytes, giving up when `stop` is set or the peer closes. Throws on errors.
bool readExactly(Poco::Net::StreamSocket& s, uint8_t* out, size_t n,
                 const std::atomic<bool>& stop) {
  size_t got = 0;
  while (got < n) {
    if (stop.load()) {
      return false;
    }
    try {
      int r = s.receiveBytes(out + got, static_cast<int>(n - got));
      if (r <= 0) {
        return false;
      }
      got += static_cast<size_t>(r);
    } catch (const Poco::TimeoutException&) {
      continue;  // check `stop` and keep waiting
    }
  }
  return true;
}

void writeAll(Poco::Net::StreamSocket& s, const uint8_t* data, size_t n) {
  size_t sent = 0;
  while (sent < n) {
    int r = s.sendBytes(data + sent, static_cast<int>(n - sent));
    if (r <= 0) {
      throw Poco::Net::NetException("send failed");
    }
    sent += static_cast<size_t>(r);
  }
}

uint32_t readU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

struct SocketPeerTransport::Impl {
  SocketTransportOptions options;
  Key key{};
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> refused{0};
  Poco::Net::ServerSocket listener;
  uint16_t port = 0;

  Mutex handlerMu;
  Handler handler GUARDED_BY(handlerMu);

  struct Outbound {
    std::string address;
    Mutex mu;
    std::condition_variable_any cv;
    std::deque<std::vector<uint8_t>> queue GUARDED_BY(mu);
    std::jthread writer;
  };
  std::map<NodeId, std::unique_ptr<Outbound>> outbound;

  Mutex readersMu;
  std::vector<std::jthread> readers GUARDED_BY(readersMu);
  std::vector<Poco::Net::StreamSocket> inboundSockets GUARDED_BY(readersMu);
  std::jthread acceptor;

  void deliver(Envelope envelope) {
    Handler h;
    {
      MutexLock lock(handlerMu);
      h = handler;
    }
    if (h) {
      h(std::move(envelope));
    }
  }

  void acceptLoop() {
    setThreadName("chat-peer-acc");
    while (!stopping.load()) {
      try {
        if (!listener.poll(kPollInterval, Poco::Net::Socket::SELECT_READ)) {
          continue;
        }
        Poco::Net::StreamSocket s = listener.acceptConnection();
        // TODO(#3): join reader threads whose peer went away; today they are joined at
        // shutdown, so a node whose peers reconnect often keeps a finished thread per visit.
        MutexLock lock(readersMu);
        inboundSockets.push_back(s);
        readers.emplace_back([this, s]() mutable { readLoop(s); });
      } catch (const Poco::Exception& e) {
        if (!stopping.load()) {
          logger().warning("peer accept failed: " + e.displayText());
        }
      }
    }
  }

  void readLoop(Poco::Net::StreamSocket s) {
    setThreadName("chat-peer-in");
    std::string from = "unknown";
    try {
      from = s.peerAddress().toString();
      s.setReceiveTimeout(kPollInterval);
      std::array<uint8_t, kChallengeBytes> challenge{};
      randombytes_buf(challenge.data(), challenge.size());
      writeAll(s, challenge.data(), challenge.size());
      std::array<uint8_t, 4 + kMacBytes> answer{};
      if (!readExactly(s, answer.data(), answer.size(), stopping)) {
        return;
      }
      NodeId id = readU32(answer.data());
      auto expected = proof(key, challenge.data(), id);
      bool known = options.peers.contains(id);
      if (!known || sodium_memcmp(expected.data(), answer.data() + 4, kMacBytes) != 0) {
        refused.fetch_add(1);
        logger().warning("refused a peer connection from " + from +
                         ": it does not know the cluster secret or claims unknown node " +
                         std::to_string(id));
        s.close();
        return;
      }
      std::vector<uint8_t> frame;
      for (;;) {
        std::array<uint8_t, 4> length{};
        if (!readExactly(s, length.data(), 4, stopping)) {
          return;
        }
        uint32_t n = readU32(length.data());
        if (n > kMaxFrameBytes) {
          logger().warning("closing peer " + std::to_string(id) + ": frame of " +
                           std::to_string(n) + " bytes");
          return;
        }
        frame.resize(n);
        if (!readExactly(s, frame.data(), n, stopping)) {
          return;
        }
        auto envelope = decodeEnvelope(frame);
        if (!envelope || envelope->from != id || envelope->to != options.self) {
          logger().warning(
              "closing peer " + std::to_string(id) + ": " +
              (envelope ? std::string("misaddressed message") : envelope.error().message()));
          return;
        }
        deliver(std::move(envelope).value());
      }
    } catch (const Poco::Exception& e) {
      if (!stopping.load()) {
        logger().information("peer connection from " + from + " ended: " + e.displayText());
      }
    }
  }

  void writeLoop(NodeId peer, Outbound& out) {
    setThreadName("chat-peer-out");
    auto backoff = std::chrono::milliseconds(50);
    while (!stopping.load()) {
      Poco::Net::StreamSocket s;
      try {
        s.connect(Poco::Net::SocketAddress(out.address), Poco::Timespan(1, 0));
        s.setNoDelay(true);
        s.setReceiveTimeout(Poco::Timespan(2, 0));
        std::array<uint8_t, kChallengeBytes> challenge{};
        if (!readExactly(s, challenge.data(), challenge.size(), stopping)) {
          throw Poco::Net::NetException("no challenge");
        }
        std::array<uint8_t, 4 + kMacBytes> answer{};
        for (int i = 0; i < 4; ++i) {
          answer[static_cast<size_t>(i)] = static_cast<uint8_t>(options.self >> (24 - 8 * i));
        }
        auto mac = proof(key, challenge.data(), options.self);
        std::memcpy(answer.data() + 4, mac.data(), mac.size());
        writeAll(s, answer.data(), answer.size());
        backoff = std::chrono::milliseconds(50);
        for (;;) {
          std::deque<std::vector<uint8_t>> batch;
          {
            MutexLock lock(out.mu);
            out.cv.wait_for(out.mu, std::chrono::milliseconds(200), [&]() REQUIRES(out.mu) {
              return stopping.load() || !out.queue.empty();
            });
            if (stopping.load()) {
              return;
            }
            batch.swap(out.queue);
          }
          std::vector<uint8_t> bytes;
          for (const auto& m : batch) {
            auto n = static_cast<uint32_t>(m.size());
            for (int i = 0; i < 4; ++i) {
              bytes.push_back(static_cast<uint8_t>(n >> (24 - 8 * i)));
            }
            bytes.insert(bytes.end(), m.begin(), m.end());
          }
          if (!bytes.empty()) {
            writeAll(s, bytes.data(), bytes.size());
          }
        }
      } catch (const Poco::Exception& e) {
        // Unreachable peer: drop what waits (Raft resends) and try again later.
        {
          MutexLock lock(out.mu);
          out.queue.clear();
        }
        MutexLock lock(out.mu);
        out.cv.wait_for(out.mu, backoff, [&] { return stopping.load(); });
        backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      }
      (void)peer;
    }
  }

  ~Impl() {
    stopping.store(true);
    for (auto& [id, out] : outbound) {
      out->cv.notify_all();
    }
    {
      MutexLock lock(readersMu);
      for (auto& s : inboundSockets) {
        try {
          s.shutdown();
        } catch (const Poco::Exception&) {
          // already closed by the peer: nothing to unblock
        }
      }
    }
    if (acceptor.joinable()) {
      acceptor.join();
    }
    for (auto& [id, out] : outbound) {
      if (out->writer.joinable()) {
        out->writer.join();
      }
    }
    std::vector<std::jthread> done;
    {
      MutexLock lock(readersMu);
      done.swap(readers);
    }
    done.clear();  // joins
  }
};

SocketPeerTransport::SocketPeerTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SocketPeerTransport::~SocketPeerTransport() = default;

Result<std::unique_ptr<SocketPeerTransport>> SocketPeerTransport::start(
    SocketTransportOptions options) {
  CHAT_CHECK(sodium_init() >= 0);
  auto impl = std::make_unique<Impl>();
  impl->key = deriveKey(options.secret);
  impl->options = std::move(options);
  try {
    impl->listener.bind(
        Poco::Net::SocketAddress(impl->options.listenHost, impl->options.listenPort), true);
    impl->listener.listen(64);
    impl->port = impl->listener.address().port();
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot listen for peers on " + impl->options.listenHost + ":" +
                           std::to_string(impl->options.listenPort) + ": " + e.displayText());
  }
  Impl* raw = impl.get();
  for (const auto& [id, address] : impl->options.peers) {
    if (id == impl->options.self) {
      continue;
    }
    auto out = std::make_unique<Impl::Outbound>();
    out->address = address;
    Impl::Outbound* o = out.get();
    NodeId peer = id;
    impl->outbound[id] = std::move(out);
    o->writer = std::jthread([raw, peer, o] { raw->writeLoop(peer, *o); });
  }
  impl->acceptor = std::jthread([raw] { raw->acceptLoop(); });
  return std::unique_ptr<SocketPeerTransport>(new SocketPeerTransport(std::move(impl)));
}

void SocketPeerTransport::send(Envelope envelope) {
  auto it = impl_->outbound.find(envelope.to);
  if (it == impl_->outbound.end()) {
    return;
  }
  auto bytes = encodeEnvelope(envelope);
  Impl::Outbound& out = *it->second;
  {
    MutexLock lock(out.mu);
    if (out.queue.size() >= impl_->options.maxQueuedMessages) {
      return;  // the peer is far behind or away; Raft resends
    }
    out.queue.push_back(std::move(bytes));
  }
  out.cv.notify_one();
}

void SocketPeerTransport::setHandler(Handler handler) {
  MutexLock lock(impl_->handlerMu);
  impl_->handler = std::move(handler);
}

uint16_t SocketPeerTransport::port() const {
  return impl_->port;
}

uint64_t SocketPeerTransport::refusedConnections() const {
  return impl_->refused.load();
}

}  // namespace chat::replication
