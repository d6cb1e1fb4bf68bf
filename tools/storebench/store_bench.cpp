// store-bench: how fast chat.db records chat traffic behind the state machine, without any
// network: batches of B messages plus their delivery marks, applied to the in-memory state
// (ChatState) and recorded in the SQLite archive in one transaction each, as the node's
// archive writer does.
// Usage: store-bench [--batch B] [--batches N] [--sync full|normal] [--dir DIR]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "chat/storage/sqlite_archive.h"

int main(int argc, char** argv) {
  int batch = 100;
  int batches = 200;
  bool syncFull = false;
  int checkpoint = 1000;
  int page = 4096;
  std::string dir = "/tmp/chat-store-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--batch") {
      batch = std::atoi(argv[i + 1]);
    } else if (a == "--batches") {
      batches = std::atoi(argv[i + 1]);
    } else if (a == "--sync") {
      syncFull = std::strcmp(argv[i + 1], "full") == 0;
    } else if (a == "--page") {
      page = std::atoi(argv[i + 1]);
    } else if (a == "--checkpoint") {
      checkpoint = std::atoi(argv[i + 1]);
    } else if (a == "--dir") {
      dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  chat::storage::SqliteOptions options;
  options.syncFull = syncFull;
  options.walAutocheckpointPages = checkpoint;
  options.pageSize = page;
  auto archive = chat::storage::SqliteArchive::open(dir + "/chat.db", options);
  if (!archive) {
    std::fprintf(stderr, "%s\n", archive.error().toString().c_str());
    return 1;
  }
  chat::storage::ChatState state;
  auto apply = [&](const std::vector<chat::storage::Command>& batchEntries) {
    auto results = state.apply(batchEntries);
    return (*archive)->record(batchEntries, results);
  };
  uint64_t index = 0;
  std::vector<chat::storage::Command> entries;
  for (int p = 0; p < 100; ++p) {
    entries.push_back(
        {1, ++index, chat::storage::CreateAccountOp{"u" + std::to_string(p), "h", 1}});
  }
  (void)apply(entries);
  std::string body(100, 'x');
  auto start = std::chrono::steady_clock::now();
  uint64_t lastMessage = 0;
  for (int b = 0; b < batches; ++b) {
    entries.clear();
    for (int m = 0; m < batch; ++m) {
      int s = m % 50;
      entries.push_back(
          {1, ++index,
           chat::storage::StoreMessageOp{"u" + std::to_string(s), "u" + std::to_string(s + 50),
                                         body, 1, index}});
      if (lastMessage != 0) {
        entries.push_back(
            {1, ++index,
             chat::storage::MarkDeliveredOp{"u" + std::to_string(s + 50), {lastMessage}, 2}});
      }
      lastMessage = index;
    }
    if (auto r = apply(entries); !r.isOk()) {
      std::fprintf(stderr, "%s\n", r.toString().c_str());
      return 1;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%d batches of %d messages (+ delivery marks), sync %s: %.0f messages/s, %.2f ms "
      "per commit\n",
      batches, batch, syncFull ? "full" : "normal", batch * batches / seconds,
      seconds * 1000 / batches);
  return 0;
}
