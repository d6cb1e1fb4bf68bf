// The Debian package: `cpack -G DEB` in the build folder makes a .deb whose dependencies name
// the libraries the programs link, and whose files land where Debian expects them; unpacked
// into a scratch root, its chat-node runs.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

TEST(PackageTest, TheDebInstallsIntoAScratchRootAndItsProgramsRun) {
  testing::TempDir dir;
  auto pack = testing::runCommand("cd " + std::string(CHAT_BUILD_DIR) + " && cpack -G DEB -B " +
                                  dir.path() + " 2>&1");
  ASSERT_EQ(pack.exitCode, 0) << pack.output;
  std::string deb;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() == ".deb") {
      deb = e.path().string();
    }
  }
  ASSERT_FALSE(deb.empty()) << pack.output;
  EXPECT_NE(deb.find("chat-suite_"), std::string::npos) << deb;

  auto depends = testing::runCommand("dpkg-deb -f " + deb + " Depends");
  ASSERT_EQ(depends.exitCode, 0) << depends.output;
  for (const char* library : {"libpoco", "libsodium", "libncursesw", "libsqlite3"}) {
    EXPECT_NE(depends.output.find(library), std::string::npos)
        << "Depends lacks " << library << ": " << depends.output;
  }

  std::string root = dir.file("root");
  auto unpack = testing::runCommand("dpkg -x " + deb + " " + root);
  ASSERT_EQ(unpack.exitCode, 0) << unpack.output;
  for (const char* file : {"/usr/bin/chat-node", "/usr/bin/chat-supervisor", "/usr/bin/chat-tui",
                           "/usr/bin/chat-chaos", "/etc/chat/cluster.ini", "/etc/chat/tui.ini",
                           "/etc/chat/chat-node.properties",
                           "/usr/share/man/man1/chat-node.1", "/usr/share/man/man1/chat-tui.1"}) {
    EXPECT_TRUE(std::filesystem::exists(root + file)) << file << " is not in the package";
  }
  auto help = testing::runCommand(root + "/usr/bin/chat-node --help");
  EXPECT_EQ(help.exitCode, 0) << help.output;
  EXPECT_NE(help.output.find("chat-node: a chat server"), std::string::npos) << help.output;
  // The supervisor finds the chat-node installed beside it.
  auto supervisor = testing::runCommand(root + "/usr/bin/chat-supervisor --help");
  EXPECT_EQ(supervisor.exitCode, 0) << supervisor.output;
}

}  // namespace
}  // namespace chat
