// store-bench: how fast chat.db records chat traffic behind the state machine, without any
// network: batches of B messages plus their delivery marks, applied to the in-memory state
// (ChatState) and recorded in the SQLite archive in one transaction each, as the node's
// archive writer does.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "chat/common/command_line.h"
#include "chat/protocol/suite_version.h"
#include "chat/storage/sqlite_archive.h"

namespace {

constexpr const char* kUsage =
    "usage: store-bench [options]\n"
    "How fast chat.db records chat traffic behind the state machine, without any network.\n"
    "\n"
    "  --batch B          messages per transaction (default 100)\n"
    "  --batches N        transactions (default 200)\n"
    "  --sync MODE        normal (default) or full: chat.db's synchronous setting\n"
    "  --page BYTES       SQLite page size (default 4096)\n"
    "  --checkpoint N     WAL pages before an automatic checkpoint (default 1000)\n"
    "  --dir DIR          a new or empty folder for chat.db (default: a temporary folder,\n"
    "                     removed afterwards)\n"
    "  --version          the suite's version and the protocol versions it speaks\n"
    "Every option may also be written --name=VALUE.\n";

}  // namespace

int main(int argc, char** argv) {
  int batch = 100;
  int batches = 200;
  bool syncFull = false;
  int checkpoint = 1000;
  int page = 4096;
  std::string dir;
  chat::CommandLine line("store-bench");
  line.number("--batch", batch, 1, 1000000)
      .number("--batches", batches, 1, 1000000)
      .option("--sync",
              [&syncFull](const std::string& v) {
                syncFull = v == "full";
                return v == "full" || v == "normal"
                           ? chat::Status::ok()
                           : chat::Status::invalidArgument("--sync takes normal or full, not '" +
                                                           v + "'");
              })
      .number("--page", page, 512, 65536)
      .number("--checkpoint", checkpoint, 0, 1000000000)
      .text("--dir", dir);
  if (auto exit = chat::finishCommandLine("store-bench", line.parse(argc, argv), kUsage,
                                          chat::protocol::versionText("store-bench"))) {
    return *exit;
  }
  // Never removes what it did not make: a given folder must be new or empty.
  bool ownFolder = dir.empty();
  std::error_code ec;
  if (ownFolder) {
    std::string pattern =
        (std::filesystem::temp_directory_path(ec) / "store-bench.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("store-bench: a temporary folder");
      return 1;
    }
    dir = pattern;
  } else if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    std::fprintf(stderr, "store-bench: --dir %s is not empty; give a new or empty folder\n",
                 dir.c_str());
    return 2;
  } else {
    std::filesystem::create_directories(dir, ec);
  }
  struct Cleanup {
    bool remove;
    std::string dir;
    ~Cleanup() {
      std::error_code ignored;
      if (remove) {
        std::filesystem::remove_all(dir, ignored);
      }
    }
  } cleanup{ownFolder, dir};
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
