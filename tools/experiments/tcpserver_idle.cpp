// tcpserver-idle: what N idle clients cost with Poco's TCPServer serving each connection on
// its own pooled thread for the connection's life (the design chat-node does not use).
// Opens N loopback connections to an in-process TCPServer whose handlers block in a read,
// then prints threads and resident memory. Compare with `chat-bench --idle N`.
// Usage: tcpserver-idle [N]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>

#include "chat/common/process_info.h"

namespace {

std::atomic<int> serving{0};

class Blocking final : public Poco::Net::TCPServerConnection {
 public:
  using TCPServerConnection::TCPServerConnection;
  void run() override {
    serving.fetch_add(1);
    char b[64];
    try {
      while (socket().receiveBytes(b, sizeof b) > 0) {
      }
    } catch (const Poco::Exception&) {
      // the client went away: this connection's thread is done
    }
    serving.fetch_sub(1);
  }
};

std::string statusField(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0) {
      return line.substr(name.size());
    }
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  chat::raiseOpenFileLimit();
  Poco::Net::ServerSocket listen(Poco::Net::SocketAddress("127.0.0.1", 0), 4096);
  auto* params = new Poco::Net::TCPServerParams;  // owned by the server
  params->setMaxThreads(n + 16);
  params->setMaxQueued(n + 16);
  params->setThreadIdleTime(Poco::Timespan(3600, 0));
  Poco::Net::TCPServer server(new Poco::Net::TCPServerConnectionFactoryImpl<Blocking>(), listen,
                              params);
  server.start();
  uint64_t before = chat::residentBytes();
  std::vector<Poco::Net::StreamSocket> clients;
  clients.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    clients.emplace_back(listen.address());
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (serving.load() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::printf(
      "%d idle connections, %d being served: threads%s, resident %.1f MiB (%.1f MiB "
      "before connecting)\n",
      n, serving.load(), statusField("Threads:").c_str(),
      static_cast<double>(chat::residentBytes()) / 1048576.0,
      static_cast<double>(before) / 1048576.0);
  clients.clear();
  server.stop();
  return 0;
}
