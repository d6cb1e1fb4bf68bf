// The Debian package: `cpack -G DEB` in the build folder makes a .deb whose dependencies name
// the libraries the programs link, and whose files land where Debian expects them; unpacked
// into a scratch root, its chat-node runs. Installed by dpkg into a scratch root (its
// maintainer scripts run there), it makes the chat user and a cluster secret of its own.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "chat/protocol/suite_version.h"
#include "support/free_ports.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

// Builds the .deb into `dir`; its path, or empty (after a test failure) when cpack failed.
std::string buildDeb(const testing::TempDir& dir) {
  auto pack = testing::runCommand("cd " + std::string(CHAT_BUILD_DIR) + " && cpack -G DEB -B " +
                                  dir.path() + " 2>&1");
  EXPECT_EQ(pack.exitCode, 0) << pack.output;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() == ".deb") {
      return e.path().string();
    }
  }
  ADD_FAILURE() << "no .deb: " << pack.output;
  return {};
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// dpkg installs the package into a scratch root, running its postinst there (DPKG_ROOT): the
// chat group and user appear in that root's files, and /etc/chat/cluster.secret holds 64 random
// hex digits, 0640 root:chat, which chat-node accepts; a second configure keeps it, and a
// purge removes it. (One test with the unpacking above: the .deb takes seconds to build.)
void expectInstallMakesTheChatUserAndAPrivateSecret(const testing::TempDir& dir,
                                                    const std::string& deb) {
  if (::geteuid() != 0) {
    std::printf("not root: the install into a scratch root is skipped (dpkg --root must chown)\n");
    return;
  }
  std::string root = dir.file("installed");
  std::filesystem::create_directories(root + "/etc");
  std::filesystem::create_directories(root + "/var/lib/dpkg/info");
  std::filesystem::create_directories(root + "/var/lib/dpkg/updates");
  std::ofstream(root + "/var/lib/dpkg/status").close();
  // The scratch root's accounts: root's only (the host's stay untouched).
  std::ofstream(root + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
  std::ofstream(root + "/etc/group") << "root:x:0:\n";
  std::ofstream(root + "/etc/shadow") << "root:*:19000:0:99999:7:::\n";
  std::ofstream(root + "/etc/gshadow") << "root:*::\n";
  ::chmod((root + "/etc/shadow").c_str(), 0640);
  ::chmod((root + "/etc/gshadow").c_str(), 0640);
  std::string dpkg = "dpkg --root=" + root +
                     " --force-script-chrootless --force-depends --force-not-root"
                     " --log=/dev/null ";
  auto install = testing::runCommand(dpkg + "-i " + deb + " 2>&1");
  ASSERT_EQ(install.exitCode, 0) << install.output;

  std::string group = readFile(root + "/etc/group");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(group, m, std::regex("\nchat:x:([0-9]+):"))) << group;
  unsigned gid = static_cast<unsigned>(std::stoul(m[1]));
  EXPECT_TRUE(std::regex_search(readFile(root + "/etc/passwd"),
                                std::regex("\nchat:x:[0-9]+:" + std::to_string(gid) +
                                           ":[^:]*:/var/lib/chat:/usr/sbin/nologin")))
      << readFile(root + "/etc/passwd");
  std::string secretPath = root + "/etc/chat/cluster.secret";
  struct stat st {};
  ASSERT_EQ(::stat(secretPath.c_str(), &st), 0) << "the postinst made no secret";
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, gid);
  std::string secret = readFile(secretPath);
  EXPECT_TRUE(std::regex_match(secret, std::regex("[0-9a-f]{64}\n"))) << secret;

  // chat-node takes it: a one-node cluster file naming it starts.
  std::string clusterFile = dir.file("one.ini");
  auto ports = testing::freePorts(2);
  std::ofstream(clusterFile) << "[cluster]\nsecret_file = " << secretPath
                             << "\n[node.1]\nhost = 127.0.0.1\nclient_port = " << ports[0]
                             << "\npeer_port = " << ports[1] << "\ndata_dir = " << dir.file("data")
                             << "\n";
  auto node = testing::runCommand("timeout 3 " + root + "/usr/bin/chat-node --cluster " +
                                  clusterFile + " --id 1 --password-hash min 2>&1");
  EXPECT_EQ(node.output.find("secret"), std::string::npos) << node.output;
  EXPECT_NE(node.output.find("listening"), std::string::npos) << node.output;

  // Configured again (an upgrade): the same secret.
  auto again = testing::runCommand("DPKG_ROOT=" + root + " sh " + root +
                                   "/var/lib/dpkg/info/chat-suite.postinst configure 2>&1");
  EXPECT_EQ(again.exitCode, 0) << again.output;
  EXPECT_EQ(readFile(secretPath), secret);
  // Purged: gone.
  auto purge = testing::runCommand(dpkg + "--purge chat-suite 2>&1");
  EXPECT_EQ(purge.exitCode, 0) << purge.output;
  EXPECT_FALSE(std::filesystem::exists(secretPath));
}

TEST(PackageTest, TheDebInstallsIntoAScratchRootAndItsProgramsRun) {
  testing::TempDir dir;
  std::string deb = buildDeb(dir);
  ASSERT_FALSE(deb.empty());
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
                           "/usr/share/man/man1/chat-node.1", "/usr/share/man/man1/chat-tui.1",
                           "/usr/share/bash-completion/completions/chat-supervisor",
                           "/usr/share/bash-completion/completions/chat-tui"}) {
    EXPECT_TRUE(std::filesystem::exists(root + file)) << file << " is not in the package";
  }
  auto help = testing::runCommand(root + "/usr/bin/chat-node --help");
  EXPECT_EQ(help.exitCode, 0) << help.output;
  EXPECT_NE(help.output.find("chat-node " + std::string(protocol::suiteVersion()) + ": a chat server"), std::string::npos) << help.output;
  // The supervisor finds the chat-node installed beside it.
  auto supervisor = testing::runCommand(root + "/usr/bin/chat-supervisor --help");
  EXPECT_EQ(supervisor.exitCode, 0) << supervisor.output;
  // No secret is shipped: the installed cluster files name the one the postinst makes.
  auto contents = testing::runCommand("dpkg-deb -c " + deb);
  EXPECT_EQ(contents.output.find("cluster.secret"), std::string::npos) << contents.output;
  std::string cluster = readFile(root + "/etc/chat/cluster.ini");
  EXPECT_NE(cluster.find("secret_file = /etc/chat/cluster.secret"), std::string::npos) << cluster;
  EXPECT_NE(cluster.find("data_dir = /var/lib/chat/node1"), std::string::npos) << cluster;
  expectInstallMakesTheChatUserAndAPrivateSecret(dir, deb);
}

}  // namespace
}  // namespace chat
