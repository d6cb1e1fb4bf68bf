#include "chat/replication/socket_peer_transport.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <thread>
#include <vector>

#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include "chat/tls/tls_stream.h"

#include "chat/cluster/cluster_secret.h"
#include "chat/common/log_throttle.h"
#include "chat/common/mutex.h"
#include "chat/common/process_info.h"
#include "chat/protocol/byte_io.h"
#include "chat/replication/peer_codec.h"

namespace chat::replication {

namespace {

constexpr size_t kChallengeBytes = 32;
constexpr NodeId kOperatorId = 0;  // the supervisor or an operator tool; never a node
constexpr size_t kMacBytes = crypto_auth_hmacsha256_BYTES;
constexpr uint32_t kMaxFrameBytes = 64 * 1024 * 1024;
const Poco::Timespan kPollInterval(0, 200 * 1000);
// A TLS handshake on the peer port: generous, it also waits out a paused peer.
constexpr std::chrono::milliseconds kHandshakeTimeout(2000);
// Inbound connections: at most this many still proving the secret, and in all (peers,
// snapshot fetches, operators): a flood of idle connections cannot take every thread.
constexpr size_t kMaxUnauthenticated = 32;
constexpr size_t kMaxInbound = 256;

Poco::Logger& logger() {
  return Poco::Logger::get("chat.peer");
}

using Key = std::array<uint8_t, crypto_auth_hmacsha256_KEYBYTES>;

Key deriveKey(const std::string& secret) {
  static_assert(std::tuple_size_v<cluster::ClusterKey> == crypto_auth_hmacsha256_KEYBYTES);
  return cluster::deriveClusterKey(secret, "peer authentication");
}

// Who proves what in the handshake: each side's proof covers both nonces, which side it
// speaks for and both node ids, so a proof can be neither replayed on another connection,
// reflected back to its sender, nor relayed to a node other than the one it was made for.
enum class Side { kConnector, kAcceptor };

std::array<uint8_t, kMacBytes> handshakeProof(const Key& key, Side side, const uint8_t* challenge,
                                              const uint8_t* nonce, NodeId speaker,
                                              NodeId listener) {
  static constexpr std::string_view kConnector = "chat peer handshake v2: connector";
  static constexpr std::string_view kAcceptor = "chat peer handshake v2: acceptor";
  std::string_view label = side == Side::kConnector ? kConnector : kAcceptor;
  std::array<uint8_t, 8> ids{};
  protocol::storeBigEndian<uint32_t>(ids.data(), speaker);
  protocol::storeBigEndian<uint32_t>(ids.data() + 4, listener);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const uint8_t*>(label.data()),
                                label.size());
  crypto_auth_hmacsha256_update(&state, challenge, kChallengeBytes);
  crypto_auth_hmacsha256_update(&state, nonce, kChallengeBytes);
  crypto_auth_hmacsha256_update(&state, ids.data(), ids.size());
  std::array<uint8_t, kMacBytes> mac{};
  crypto_auth_hmacsha256_final(&state, mac.data());
  return mac;
}

// A peer connection: Poco's socket, its bytes through TLS when the cluster has it. Blocking,
// with the receive timeout of the socket: a read that times out throws
// Poco::TimeoutException either way, so the loops below check their stop flags.
class PeerSocket {
 public:
  PeerSocket() = default;
  explicit PeerSocket(Poco::Net::StreamSocket s) : socket_(std::move(s)) {}
  Poco::Net::StreamSocket& socket() { return socket_; }

  // After connect (a client: `host` must be named by the peer's certificate) or accept
  // (no host). Throws NetException with the reason when TLS fails.
  void secure(const tls::TlsContext* context, const std::string& host,
              std::chrono::milliseconds timeout) {
    if (context == nullptr) {
      return;
    }
    auto stream = tls::TlsStream::create(*context, socket_.impl()->sockfd(), host);
    Status s = stream ? (*stream)->handshake(std::chrono::steady_clock::now() + timeout)
                      : stream.error();
    if (!s.isOk()) {
      throw Poco::Net::NetException("TLS: " + s.message());
    }
    tls_ = std::move(stream).value();
  }

  // > 0: bytes read; 0: the peer closed.
  int receiveBytes(uint8_t* out, int n) {
    if (!tls_) {
      return socket_.receiveBytes(out, n);
    }
    tls::IoResult r = tls_->read(out, static_cast<size_t>(n));
    switch (r.kind) {
      case tls::IoResult::Kind::kOk:
        return static_cast<int>(r.bytes);
      case tls::IoResult::Kind::kWantRead:
      case tls::IoResult::Kind::kWantWrite:
        throw Poco::TimeoutException("no data within the receive timeout");
      case tls::IoResult::Kind::kClosed:
        return 0;
      case tls::IoResult::Kind::kError:
        break;
    }
    throw Poco::Net::NetException(r.error);
  }

  void sendAll(const uint8_t* data, size_t n) {
    size_t sent = 0;
    while (sent < n) {
      if (!tls_) {
        int r = socket_.sendBytes(data + sent, static_cast<int>(n - sent));
        if (r <= 0) {
          throw Poco::Net::NetException("send failed");
        }
        sent += static_cast<size_t>(r);
        continue;
      }
      tls::IoResult r = tls_->write(data + sent, n - sent);
      if (r.kind == tls::IoResult::Kind::kOk) {
        sent += r.bytes;
      } else if (r.kind == tls::IoResult::Kind::kClosed || r.kind == tls::IoResult::Kind::kError) {
        throw Poco::Net::NetException(r.error.empty() ? "the peer closed" : r.error);
      }
    }
  }

  // The acceptor of an outbound connection never writes after its challenge: anything to
  // read means it closed (or broke the protocol). TLS records that carry no data (a key
  // update) are taken in and do not count.
  bool peerClosed() {
    if (!socket_.poll(Poco::Timespan(0),
                      Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR)) {
      return false;
    }
    if (!tls_) {
      return true;
    }
    uint8_t byte = 0;
    tls::IoResult r = tls_->read(&byte, 1);
    return r.kind != tls::IoResult::Kind::kWantRead && r.kind != tls::IoResult::Kind::kWantWrite;
  }

 private:
  Poco::Net::StreamSocket socket_;
  std::unique_ptr<tls::TlsStream> tls_;
};

// Reads exactly n bytes, giving up when `stopped()` or the peer closes. Throws on errors.
template <typename Stopped>
bool readUntil(PeerSocket& s, uint8_t* out, size_t n, const Stopped& stopped) {
  size_t got = 0;
  while (got < n) {
    if (stopped()) {
      return false;
    }
    try {
      int r = s.receiveBytes(out + got, static_cast<int>(n - got));
      if (r <= 0) {
        return false;
      }
      got += static_cast<size_t>(r);
    } catch (const Poco::TimeoutException&) {
      continue;  // check `stopped` and keep waiting
    }
  }
  return true;
}

bool readExactly(PeerSocket& s, uint8_t* out, size_t n, const std::atomic<bool>& stop) {
  return readUntil(s, out, n, [&] { return stop.load(); });
}

void writeAll(PeerSocket& s, const uint8_t* data, size_t n) {
  s.sendAll(data, n);
}

// The connector's half of the handshake (the acceptor's is in readLoop):
//   acceptor  -> u32 its node id, 32-byte challenge
//   connector -> u32 its node id, 32-byte nonce, proof(connector, challenge, nonce, ids)
//   acceptor  -> proof(acceptor, challenge, nonce, ids)
// `expected` is the node dialled (kNoNode: any node, for an operator). Returns the
// acceptor's id; throws NetException when it is not the node expected, cannot prove the
// secret, or `late()` comes first — nothing is sent to or taken from such a port.
template <typename Late>
NodeId proveAndCheckAcceptor(PeerSocket& s, const Key& key, NodeId self, NodeId expected,
                             const Late& late) {
  std::array<uint8_t, 4 + kChallengeBytes> hello{};
  if (!readUntil(s, hello.data(), hello.size(), late)) {
    throw Poco::Net::NetException("no challenge (is it a peer port? does it want TLS?)");
  }
  NodeId acceptor = protocol::loadBigEndian<uint32_t>(hello.data());
  if (expected != kNoNode && acceptor != expected) {
    throw Poco::Net::NetException("it says it is node " + std::to_string(acceptor) +
                                  ", not node " + std::to_string(expected));
  }
  const uint8_t* challenge = hello.data() + 4;
  std::array<uint8_t, 4 + kChallengeBytes + kMacBytes> answer{};
  protocol::storeBigEndian<uint32_t>(answer.data(), self);
  uint8_t* nonce = answer.data() + 4;
  randombytes_buf(nonce, kChallengeBytes);
  auto mine = handshakeProof(key, Side::kConnector, challenge, nonce, self, acceptor);
  std::memcpy(answer.data() + 4 + kChallengeBytes, mine.data(), mine.size());
  writeAll(s, answer.data(), answer.size());
  std::array<uint8_t, kMacBytes> theirs{};
  if (!readUntil(s, theirs.data(), theirs.size(), late)) {
    throw Poco::Net::NetException("it did not prove the cluster secret (wrong secret?)");
  }
  auto expectedProof = handshakeProof(key, Side::kAcceptor, challenge, nonce, acceptor, self);
  if (sodium_memcmp(expectedProof.data(), theirs.data(), kMacBytes) != 0) {
    throw Poco::Net::NetException("its proof of the cluster secret is wrong");
  }
  return acceptor;
}

// In place of a frame length: "send me your snapshot". The answer is a u64 size (kNoSnapshot
// when there is none) and that many bytes, then the acceptor closes the connection.
constexpr uint32_t kSnapshotRequest = 0xFFFFFFFF;
// From an operator (node id 0, proving the secret): "stand for election now"; answered with
// one byte, 1, and the connection closes.
constexpr uint32_t kCampaignRequest = 0xFFFFFFFE;
constexpr uint64_t kNoSnapshot = ~uint64_t{0};
constexpr size_t kSnapshotChunk = size_t{256} << 10;


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
  SnapshotProvider snapshotProvider GUARDED_BY(handlerMu);
  std::function<void()> campaignHandler GUARDED_BY(handlerMu);

  struct Outbound {
    std::string address;
    Mutex mu;
    std::condition_variable_any cv;
    std::deque<std::vector<uint8_t>> queue GUARDED_BY(mu);
    std::jthread writer;
  };
  std::map<NodeId, std::unique_ptr<Outbound>> outbound;

  // One per inbound connection; finished ones are joined and dropped at the next accept.
  struct Reader {
    Poco::Net::StreamSocket socket;
    std::shared_ptr<std::atomic<bool>> finished = std::make_shared<std::atomic<bool>>(false);
    // Set once the peer proved the secret; until then it counts against the cap below.
    std::shared_ptr<std::atomic<bool>> authenticated = std::make_shared<std::atomic<bool>>(false);
    std::jthread thread;
  };
  Mutex readersMu;
  std::list<Reader> readers GUARDED_BY(readersMu);
  std::jthread acceptor;
  std::atomic<bool> overloadLogged_{false};  // one warning per flood, not one per connection
  // Lines about strangers on the peer port: a flood of them writes a few a minute.
  LogThrottle strangerLog{10, std::chrono::seconds(60)};

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
        MutexLock lock(readersMu);
        // Peers reconnect, operators and snapshot fetches come and go: reap finished readers
        // so their threads do not pile up.
        size_t unauthenticated = 0;
        for (auto it = readers.begin(); it != readers.end();) {
          if (it->finished->load()) {
            it->thread.join();
            it = readers.erase(it);
          } else {
            unauthenticated += it->authenticated->load() ? 0U : 1U;
            ++it;
          }
        }
        // A thread per connection, so a bound on both kinds: strangers (each has the
        // handshake's two seconds) and all of them.
        if (unauthenticated >= kMaxUnauthenticated || readers.size() >= kMaxInbound) {
          refused.fetch_add(1);
          if (overloadLogged_.exchange(true) == false) {
            logger().warning("refusing peer connections: " + std::to_string(readers.size()) +
                             " open, " + std::to_string(unauthenticated) +
                             " not yet authenticated (someone is flooding the peer port?)");
          }
          s.close();
          continue;
        }
        overloadLogged_.store(false);
        Reader& r = readers.emplace_back();
        r.socket = s;
        try {
          r.thread = std::jthread(
              [this, s, finished = r.finished, authenticated = r.authenticated]() mutable {
                readLoop(s, *authenticated);
                // Closed now, not when the reader is reaped at some later accept: the list
                // keeps a copy of the socket until then.
                try {
                  s.close();
                } catch (const Poco::Exception&) {
                }
                finished->store(true);
              });
        } catch (const std::system_error& e) {
          // Out of threads: this connection goes, the node stays.
          logger().warning(std::string("cannot serve a peer connection: ") + e.what());
          readers.pop_back();
          s.close();
        }
      } catch (const Poco::Exception& e) {
        if (!stopping.load()) {
          logger().warning("peer accept failed: " + e.displayText());
        }
      } catch (const std::exception& e) {
        if (!stopping.load()) {
          logger().warning(std::string("peer accept failed: ") + e.what());
        }
      }
    }
  }

  void readLoop(Poco::Net::StreamSocket socket, std::atomic<bool>& authenticated) {
    setThreadName("chat-peer-in");
    std::string from = "unknown";
    PeerSocket s(socket);
    try {
      from = socket.peerAddress().toString();
      socket.setReceiveTimeout(kPollInterval);
      s.secure(options.tlsServer.get(), "", kHandshakeTimeout);
      // Unauthenticated until the answer checks out, and only for so long.
      auto deadline = std::chrono::steady_clock::now() + kHandshakeTimeout;
      auto late = [&] { return stopping.load() || std::chrono::steady_clock::now() > deadline; };
      std::array<uint8_t, 4 + kChallengeBytes> hello{};
      protocol::storeBigEndian<uint32_t>(hello.data(), options.self);
      const uint8_t* challenge = hello.data() + 4;
      randombytes_buf(hello.data() + 4, kChallengeBytes);
      writeAll(s, hello.data(), hello.size());
      std::array<uint8_t, 4 + kChallengeBytes + kMacBytes> answer{};
      if (!readUntil(s, answer.data(), answer.size(), late)) {
        if (auto more = strangerLog.admit(std::chrono::steady_clock::now())) {
          logger().information("closed a peer connection from " + from +
                               " that did not answer the challenge in time" + *more);
        }
        return;
      }
      NodeId id = protocol::loadBigEndian<uint32_t>(answer.data());
      const uint8_t* nonce = answer.data() + 4;
      auto expected = handshakeProof(key, Side::kConnector, challenge, nonce, id, options.self);
      bool known = options.peers.contains(id) || id == kOperatorId;
      if (!known ||
          sodium_memcmp(expected.data(), answer.data() + 4 + kChallengeBytes, kMacBytes) != 0) {
        refused.fetch_add(1);
        if (auto more = strangerLog.admit(std::chrono::steady_clock::now())) {
          logger().warning("refused a peer connection from " + from +
                           ": it does not know the cluster secret or claims unknown node " +
                           std::to_string(id) + *more);
        }
        s.socket().close();
        return;
      }
      auto mine = handshakeProof(key, Side::kAcceptor, challenge, nonce, options.self, id);
      writeAll(s, mine.data(), mine.size());
      authenticated.store(true);
      std::vector<uint8_t> frame;
      for (;;) {
        std::array<uint8_t, 4> length{};
        if (!readExactly(s, length.data(), 4, stopping)) {
          return;
        }
        uint32_t n = protocol::loadBigEndian<uint32_t>(length.data());
        if (id == kOperatorId) {
          serveOperator(s, n, from);
          return;
        }
        if (n == kSnapshotRequest) {
          serveSnapshot(s, id);
          return;
        }
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

  // Connects to peer `peer`'s port; both sides prove the secret (proveAndCheckAcceptor).
  // Throws on failure.
  void connectAsPeer(PeerSocket& s, NodeId peer, const std::string& address) {
    s.socket().connect(Poco::Net::SocketAddress(address), Poco::Timespan(1, 0));
    s.socket().setNoDelay(true);
    s.socket().setReceiveTimeout(kPollInterval);
    s.secure(options.tlsClient.get(), tls::serverNameOf(address), kHandshakeTimeout);
    auto deadline = std::chrono::steady_clock::now() + kHandshakeTimeout;
    auto late = [&] { return stopping.load() || std::chrono::steady_clock::now() > deadline; };
    proveAndCheckAcceptor(s, key, options.self, peer, late);
  }

  // An operator (the supervisor) may only ask this node to stand for election.
  void serveOperator(PeerSocket& s, uint32_t request, const std::string& from) {
    if (request != kCampaignRequest) {
      logger().warning("closing an operator connection from " + from + ": unknown request");
      return;
    }
    std::function<void()> campaign;
    {
      MutexLock lock(handlerMu);
      campaign = campaignHandler;
    }
    uint8_t accepted = campaign ? 1 : 0;
    if (campaign) {
      logger().information("an operator at " + from + " asked this node to stand for election");
      campaign();
    }
    writeAll(s, &accepted, 1);
  }

  // Answers a peer's snapshot request on its (authenticated) connection.
  void serveSnapshot(PeerSocket& s, NodeId peer) {
    SnapshotProvider provider;
    {
      MutexLock lock(handlerMu);
      provider = snapshotProvider;
    }
    std::array<uint8_t, 8> header{};
    auto written = provider ? provider() : Result<std::string>(Status::unavailable("no provider"));
    if (!written) {
      logger().warning("cannot give node " + std::to_string(peer) +
                       " a snapshot: " + written.error().message());
      protocol::storeBigEndian<uint64_t>(header.data(), kNoSnapshot);
      writeAll(s, header.data(), header.size());
      return;
    }
    std::string path = *written;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st{};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      if (fd >= 0) {
        ::close(fd);
      }
      std::remove(path.c_str());
      protocol::storeBigEndian<uint64_t>(header.data(), kNoSnapshot);
      writeAll(s, header.data(), header.size());
      return;
    }
    protocol::storeBigEndian<uint64_t>(header.data(), static_cast<uint64_t>(st.st_size));
    std::vector<uint8_t> chunk(kSnapshotChunk);
    try {
      writeAll(s, header.data(), header.size());
      for (;;) {
        ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n <= 0) {
          break;
        }
        writeAll(s, chunk.data(), static_cast<size_t>(n));
      }
    } catch (const Poco::Exception& e) {
      logger().warning("sending a snapshot to node " + std::to_string(peer) +
                       " failed: " + e.displayText());
    }
    ::close(fd);
    std::remove(path.c_str());
    logger().information("sent a snapshot of " + std::to_string(st.st_size) + " bytes to node " +
                         std::to_string(peer));
  }

  void writeLoop(NodeId peer, Outbound& out) {
    setThreadName("chat-peer-out");
    auto backoff = std::chrono::milliseconds(50);
    std::deque<std::vector<uint8_t>> batch;  // taken from the queue, not yet written
    while (!stopping.load()) {
      PeerSocket s;
      bool closedByPeer = false;
      try {
        connectAsPeer(s, peer, out.address);
        backoff = std::chrono::milliseconds(50);
        for (;;) {
          if (batch.empty()) {
            MutexLock lock(out.mu);
            out.cv.wait_for(out.mu, std::chrono::milliseconds(200), [&]() REQUIRES(out.mu) {
              return stopping.load() || !out.queue.empty();
            });
            if (stopping.load()) {
              return;
            }
            batch.swap(out.queue);
          }
          // The acceptor never writes after its challenge: anything readable means the peer
          // closed (it restarted, say). Writing into such a socket loses the batch, so find
          // out first and reconnect with the batch kept. (A follower rarely writes to another
          // follower, so this is how a vote reply reaches a restarted candidate at once.)
          if (s.peerClosed()) {
            closedByPeer = true;
            throw Poco::Net::NetException("the peer closed the connection");
          }
          std::vector<uint8_t> bytes;
          for (const auto& m : batch) {
            bytes.resize(bytes.size() + 4);
            protocol::storeBigEndian(bytes.data() + bytes.size() - 4,
                                     static_cast<uint32_t>(m.size()));
            bytes.insert(bytes.end(), m.begin(), m.end());
          }
          batch.clear();
          if (!bytes.empty()) {
            writeAll(s, bytes.data(), bytes.size());
          }
        }
      } catch (const Poco::Exception& e) {
        if (closedByPeer) {
          continue;  // reconnect at once; the batch is still here
        }
        // Unreachable peer: drop what waits (Raft resends) and try again later.
        batch.clear();
        {
          MutexLock lock(out.mu);
          out.queue.clear();
        }
        // Try again after the backoff, or as soon as there is something to send (but not
        // more often than every 10 ms): a peer that comes back must hear this node's next
        // message at once — during an election, a vote that waits out a backoff of a
        // second costs the cluster a second of outage.
        MutexLock lock(out.mu);
        out.cv.wait_for(out.mu, std::chrono::milliseconds(10), [&] { return stopping.load(); });
        out.cv.wait_for(out.mu, backoff, [&]() REQUIRES(out.mu) {
          return stopping.load() || !out.queue.empty();
        });
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
      for (auto& r : readers) {
        try {
          r.socket.shutdown();
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
    std::list<Reader> done;
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

void SocketPeerTransport::setCampaignHandler(std::function<void()> handler) {
  MutexLock lock(impl_->handlerMu);
  impl_->campaignHandler = std::move(handler);
}

Status askToCampaign(const std::string& peerAddress, const std::string& secret,
                     std::chrono::milliseconds timeout, const tls::TlsContext* tls) {
  CHAT_CHECK(sodium_init() >= 0);
  Key key = deriveKey(secret);
  try {
    PeerSocket s;
    s.socket().connect(Poco::Net::SocketAddress(peerAddress),
                       Poco::Timespan(timeout.count() * 1000));
    s.socket().setNoDelay(true);
    s.socket().setReceiveTimeout(Poco::Timespan(timeout.count() * 1000));
    s.secure(tls, tls::serverNameOf(peerAddress), timeout);
    // The whole exchange keeps to `timeout`: a port that never sends a challenge (a TLS
    // port asked in the clear, or something else entirely) must not hold the caller.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto late = [&] { return std::chrono::steady_clock::now() > deadline; };
    try {
      proveAndCheckAcceptor(s, key, kOperatorId, kNoNode, late);
    } catch (const Poco::TimeoutException&) {
      throw;
    } catch (const Poco::Exception& e) {
      return Status::unavailable(peerAddress + " refused: " + e.displayText() +
                                 " (wrong secret, or not a node of this cluster)");
    }
    std::array<uint8_t, 4> request{};
    protocol::storeBigEndian<uint32_t>(request.data(), kCampaignRequest);
    writeAll(s, request.data(), request.size());
    uint8_t accepted = 0;
    if (s.receiveBytes(&accepted, 1) != 1 || accepted != 1) {
      return Status::unavailable(peerAddress +
                                 " refused: wrong secret, or not a node of this cluster");
    }
    return Status::ok();
  } catch (const Poco::TimeoutException&) {
    return Status::timeout(peerAddress + " did not answer within " +
                           std::to_string(timeout.count()) + " ms");
  } catch (const Poco::Exception& e) {
    return Status::unavailable("cannot reach " + peerAddress + ": " + e.displayText());
  }
}

void SocketPeerTransport::setSnapshotProvider(SnapshotProvider provider) {
  MutexLock lock(impl_->handlerMu);
  impl_->snapshotProvider = std::move(provider);
}

Status SocketPeerTransport::fetchSnapshot(NodeId peer, const std::string& path,
                                          std::stop_token stop) {
  auto stopped = [&] { return impl_->stopping.load() || stop.stop_requested(); };
  auto it = impl_->options.peers.find(peer);
  if (it == impl_->options.peers.end()) {
    return Status::invalidArgument("node " + std::to_string(peer) + " is not in the cluster");
  }
  int fd = -1;
  try {
    PeerSocket s;
    impl_->connectAsPeer(s, peer, it->second);
    std::array<uint8_t, 4> request{0xFF, 0xFF, 0xFF, 0xFF};
    writeAll(s, request.data(), request.size());
    std::array<uint8_t, 8> header{};
    // Waits while the peer writes its snapshot (readExactly retries on receive timeouts).
    if (!readUntil(s, header.data(), header.size(), stopped)) {
      return Status::unavailable("node " + std::to_string(peer) + " closed before its snapshot");
    }
    uint64_t size = protocol::loadBigEndian<uint64_t>(header.data());
    if (size == kNoSnapshot) {
      return Status::unavailable("node " + std::to_string(peer) + " has no snapshot to give");
    }
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status::ioError("cannot create " + path + ": " + std::strerror(errno));
    }
    std::vector<uint8_t> chunk(kSnapshotChunk);
    uint64_t got = 0;
    while (got < size) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - got));
      if (!readUntil(s, chunk.data(), want, stopped)) {
        ::close(fd);
        return Status::unavailable("the snapshot from node " + std::to_string(peer) +
                                   " broke off after " + std::to_string(got) + " of " +
                                   std::to_string(size) + " bytes");
      }
      if (::write(fd, chunk.data(), want) != static_cast<ssize_t>(want)) {
        ::close(fd);
        return Status::ioError("writing " + path + ": " + std::strerror(errno));
      }
      got += want;
    }
    bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) {
      return Status::ioError("fsync of " + path + " failed");
    }
    return Status::ok();
  } catch (const Poco::Exception& e) {
    if (fd >= 0) {
      ::close(fd);
    }
    return Status::unavailable("fetching a snapshot from node " + std::to_string(peer) +
                               " failed: " + e.displayText());
  }
}

uint16_t SocketPeerTransport::port() const {
  return impl_->port;
}

uint64_t SocketPeerTransport::refusedConnections() const {
  return impl_->refused.load();
}

}  // namespace chat::replication
