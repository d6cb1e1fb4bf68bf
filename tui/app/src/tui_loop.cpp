#include "tui_loop.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>

#include "chat/client/cluster_client.h"
#include "chat/tls/tls_stream.h"
#include "chat/tui/tui_controller.h"
#include "status_poller.h"
#include "terminal.h"

namespace chat::tui {

namespace {

int gSignalPipe[2] = {-1, -1};
volatile sig_atomic_t gStop = 0;

void onSignal(int sig) {
  if (sig != SIGWINCH) {
    gStop = 1;
  }
  char c = static_cast<char>(sig);
  (void)!::write(gSignalPipe[1], &c, 1);
}

int64_t wallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr int kEscapeWaitMillis = 50;

}  // namespace

int runTui(const TuiSettings& settings) {
  if (::pipe2(gSignalPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGWINCH, SIGTERM, SIGHUP, SIGINT}) {
    ::sigaction(sig, &sa, nullptr);
  }
  ::signal(SIGPIPE, SIG_IGN);

  client::ClusterClientOptions options;
  options.servers = settings.servers;
  if (!settings.tlsCa.empty()) {
    auto tls = tls::TlsContext::client({settings.tlsCa});
    if (!tls) {
      std::fprintf(stderr, "chat-tui: %s\n", tls.error().message().c_str());
      return 2;
    }
    options.tls = std::move(tls).value();
  }
  // A connect attempt is the one thing pump() waits for: keep it short so keys stay live.
  options.connectTimeout = client::Millis(300);
  client::ClusterClient client(options);
  StatusPoller poller(settings.servers, options.tls);
  TuiController controller(settings, [&client](protocol::Request r, uint64_t reuseId) {
    return client.submitAs(reuseId, std::move(r));
  });
  Terminal terminal(settings.colours, settings.mouse);
  KeyDecoder decoder;
  std::vector<Key> keys;
  auto escapeSince = std::chrono::steady_clock::time_point::max();

  while (gStop == 0) {
    int64_t now = wallMillis();
    client.pump();
    while (auto event = client.nextEvent()) {
      controller.onEvent(*event, now);
    }
    if (auto rows = poller.take()) {
      controller.onNodes(std::move(*rows));
    }
    controller.tick(now, client.timeUntilWork().count(), client.isConnected(),
                    client.lastConnectError());
    Effects effects = controller.takeEffects();
    if (effects.quit) {
      break;
    }
    if (effects.reconnect) {
      client.reconnectNow("reconnect asked for (/reconnect)");
      continue;
    }
    if (effects.mouseChanged) {
      terminal.setMouse(controller.state().mouse);
    }
    if (effects.bell) {
      terminal.bell();
    }
    if (effects.redraw) {
      terminal.invalidate();
    }
    client.flush();

    controller.setScreenSize(terminal.width(), terminal.height());
    Canvas canvas(terminal.width(), terminal.height());
    ScreenOptions screenOptions;
    screenOptions.keys = &controller.keys();
    CursorPosition cursor =
        drawScreen(canvas, controller.model(), controller.state(), now, screenOptions);
    terminal.show(canvas, cursor);

    // Wait for the next thing to do.
    int timeout = 1000;
    const auto& status = controller.state().connection;
    if (status.alarming() || !client.isConnected()) {
      timeout = 100;  // the countdown moves
    }
    timeout = std::min<int>(timeout, static_cast<int>(std::max<int64_t>(
                                         client.timeUntilWork().count(), 0)) + 1);
    if (decoder.hasPending()) {
      timeout = std::min(timeout, kEscapeWaitMillis);
    }
    std::vector<pollfd> fds = {{terminal.inputFd(), POLLIN, 0},
                               {gSignalPipe[0], POLLIN, 0},
                               {poller.wakeFd(), POLLIN, 0}};
    if (client.fd() >= 0) {
      fds.push_back({client.fd(), static_cast<short>(POLLIN | (client.wantsWrite() ? POLLOUT : 0)),
                     0});
    }
    ::poll(fds.data(), fds.size(), timeout);

    if ((fds[1].revents & POLLIN) != 0) {
      char sig[16];
      while (::read(gSignalPipe[0], sig, sizeof sig) > 0) {
      }
      terminal.resize();
    }
    keys.clear();
    if ((fds[0].revents & (POLLIN | POLLHUP)) != 0) {
      auto bytes = terminal.readInput();
      if (!bytes) {
        break;  // the terminal went away
      }
      decoder.feed(*bytes, keys);
      escapeSince = decoder.hasPending() ? std::chrono::steady_clock::now()
                                         : std::chrono::steady_clock::time_point::max();
    } else if (decoder.hasPending() &&
               std::chrono::steady_clock::now() - escapeSince >=
                   std::chrono::milliseconds(kEscapeWaitMillis)) {
      decoder.expire(keys);
    }
    now = wallMillis();
    for (const auto& key : keys) {
      controller.onKey(key, now);
    }
  }
  ::close(gSignalPipe[0]);
  ::close(gSignalPipe[1]);
  return 0;
}

}  // namespace chat::tui
