// store-bench: how fast the SQLite store applies chat traffic in group commits, without any
// network: batches of B messages plus their delivery marks, as the commit thread sees them.
// Usage: store-bench [--batch B] [--batches N] [--sync full|normal] [--dir DIR]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "chat/storage/sqlite_store.h"

int main(int argc, char** argv) {
  int batch = 100;
  int batches = 200;
  bool syncFull = true;
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
  auto store = chat::storage::SqliteMessageStore::open(dir + "/chat.db", options);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().toString().c_str());
    return 1;
  }
  uint64_t index = 0;
  std::vector<chat::storage::LogEntry> entries;
  for (int p = 0; p < 100; ++p) {
    entries.push_back(
        {1, ++index, chat::storage::CreateAccountOp{"u" + std::to_string(p), "h", 1}});
  }
  (void)(*store)->apply(entries);
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
    auto r = (*store)->apply(entries);
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().toString().c_str());
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
