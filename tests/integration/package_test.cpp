// The Debian package: `cpack -G DEB` in the build folder makes a .deb whose dependencies name
// the libraries the programs link, whose files land where Debian expects them (lintian finds
// nothing to warn of); unpacked into a scratch root, its chat-node runs. Installed by dpkg
// into a scratch root (its maintainer scripts run there), it makes the chat user, its
// folders and a cluster secret of its own; its unit's command passes chat-node's check; it
// reinstalls, upgrades keeping the administrator's edits, removes and purges as it says.
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
#include "support/read_file.h"
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

using testing::readFile;

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

  // The chat user's folders, private to it.
  unsigned uid = 0;
  {
    std::smatch u;
    std::string passwd = readFile(root + "/etc/passwd");
    ASSERT_TRUE(std::regex_search(passwd, u, std::regex("\nchat:x:([0-9]+):"))) << passwd;
    uid = static_cast<unsigned>(std::stoul(u[1]));
  }
  for (auto [folder, mode] : {std::pair{"/var/lib/chat", 0700u}, std::pair{"/var/log/chat", 0750u}}) {
    struct stat fs {};
    ASSERT_EQ(::stat((root + folder).c_str(), &fs), 0) << folder << " was not made";
    EXPECT_EQ(fs.st_mode & 07777, mode) << folder;
    EXPECT_EQ(fs.st_uid, uid) << folder;
    EXPECT_EQ(fs.st_gid, gid) << folder;
  }

  // The unit's ExecStart line, as systemd would run it for node 1, in check mode: the
  // package's chat-node takes every option of its unit, the shipped cluster file and the
  // secret the postinst made. (Paths moved into the scratch root.)
  std::string unit = readFile(root + "/lib/systemd/system/chat-node@.service");
  // ExecStart=..., continued on the next line after a backslash.
  std::string command;
  {
    std::istringstream lines(unit);
    bool inExec = false;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("ExecStart=", 0) == 0) {
        inExec = true;
        line = line.substr(10);
      } else if (!inExec) {
        continue;
      }
      bool continued = !line.empty() && line.back() == '\\';
      command += (continued ? line.substr(0, line.size() - 1) : line) + " ";
      if (!continued) {
        break;
      }
    }
  }
  ASSERT_FALSE(command.empty()) << unit;
  std::string rootedCluster = dir.file("unit-cluster.ini");
  std::ofstream(rootedCluster) << std::regex_replace(
      std::regex_replace(readFile(root + "/etc/chat/cluster.ini"), std::regex("/etc/chat/"),
                         root + "/etc/chat/"),
      std::regex("/var/lib/chat/"), root + "/var/lib/chat/");
  command = std::regex_replace(command, std::regex("%i"), "1");
  command = std::regex_replace(command, std::regex("/etc/chat/cluster.ini"), rootedCluster);
  command = std::regex_replace(command, std::regex("/var/log/chat/"), root + "/var/log/chat/");
  command = std::regex_replace(command, std::regex("/usr/bin/chat-node"), root + "/usr/bin/chat-node");
  auto check = testing::runCommand(command + " --check 2>&1");
  EXPECT_EQ(check.exitCode, 0) << command << "\n" << check.output;
  EXPECT_NE(check.output.find("the settings hold: node 1 of " + rootedCluster), std::string::npos)
      << check.output;

  // Reinstalled over itself: the same secret, the data untouched.
  std::ofstream(root + "/var/lib/chat/marker") << "messages\n";
  auto reinstall = testing::runCommand(dpkg + "-i " + deb + " 2>&1");
  EXPECT_EQ(reinstall.exitCode, 0) << reinstall.output;
  EXPECT_EQ(readFile(secretPath), secret);
  EXPECT_EQ(readFile(root + "/var/lib/chat/marker"), "messages\n");

  // An upgrade that changes shipped defaults: the administrator's edit of tui.ini stays (the
  // new default lands beside it, as dpkg does when told to keep the old), an unedited
  // conffile takes the new default.
  std::ofstream(root + "/etc/chat/tui.ini", std::ios::app) << "; the administrator's edit\n";
  std::string raw = dir.file("raw");
  ASSERT_EQ(testing::runCommand("dpkg-deb -R " + deb + " " + raw).exitCode, 0);
  std::ofstream(raw + "/etc/chat/tui.ini", std::ios::app) << "; a new default\n";
  std::ofstream(raw + "/etc/chat/cluster-3.ini", std::ios::app) << "; a new default\n";
  std::string control = std::regex_replace(readFile(raw + "/DEBIAN/control"),
                                           std::regex("\nVersion: ([^\n]*)"), "\nVersion: $1+1");
  std::ofstream(raw + "/DEBIAN/control") << control;
  ASSERT_EQ(testing::runCommand("cd " + raw + " && find . -type f ! -path './DEBIAN/*' -printf "
                                "'%P\\0' | xargs -0 md5sum > DEBIAN/md5sums")
                .exitCode,
            0);
  std::string upgraded = dir.file("upgraded.deb");
  auto repack = testing::runCommand("dpkg-deb -b " + raw + " " + upgraded + " 2>&1");
  ASSERT_EQ(repack.exitCode, 0) << repack.output;
  auto upgrade = testing::runCommand(dpkg + "--force-confold -i " + upgraded + " 2>&1");
  EXPECT_EQ(upgrade.exitCode, 0) << upgrade.output;
  std::string tui = readFile(root + "/etc/chat/tui.ini");
  EXPECT_NE(tui.find("; the administrator's edit"), std::string::npos) << tui;
  EXPECT_EQ(tui.find("; a new default"), std::string::npos) << tui;
  EXPECT_NE(readFile(root + "/etc/chat/tui.ini.dpkg-dist").find("; a new default"),
            std::string::npos);
  EXPECT_NE(readFile(root + "/etc/chat/cluster-3.ini").find("; a new default"), std::string::npos);
  EXPECT_EQ(readFile(secretPath), secret);

  // Removed: the programs go; settings, secret and data stay.
  auto remove = testing::runCommand(dpkg + "-r chat-suite 2>&1");
  EXPECT_EQ(remove.exitCode, 0) << remove.output;
  EXPECT_FALSE(std::filesystem::exists(root + "/usr/bin/chat-node"));
  EXPECT_TRUE(std::filesystem::exists(root + "/etc/chat/cluster.ini"));
  EXPECT_EQ(readFile(secretPath), secret);
  EXPECT_EQ(readFile(root + "/var/lib/chat/marker"), "messages\n");
  // Purged: secret, data, logs and settings gone, as the package description says.
  auto purge = testing::runCommand(dpkg + "--purge chat-suite 2>&1");
  EXPECT_EQ(purge.exitCode, 0) << purge.output;
  for (const char* gone : {"/etc/chat/cluster.secret", "/var/lib/chat", "/var/log/chat", "/etc/chat"}) {
    EXPECT_FALSE(std::filesystem::exists(root + gone)) << gone << " outlived the purge";
  }
  auto description = testing::runCommand("dpkg-deb -f " + deb + " Description");
  EXPECT_NE(description.output.find("Purging the package deletes every node's data"),
            std::string::npos)
      << description.output;
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
                           "/usr/share/man/man1/chat-node.1.gz", "/usr/share/man/man1/chat-tui.1.gz",
                           "/usr/share/doc/chat-suite/copyright",
                           "/usr/share/doc/chat-suite/changelog.gz",
                           "/usr/share/bash-completion/completions/chat-supervisor",
                           "/usr/share/bash-completion/completions/chat-tui"}) {
    EXPECT_TRUE(std::filesystem::exists(root + file)) << file << " is not in the package";
  }
  // Debian's conventions: pages and changelog gzipped, the settings conffiles, a maintainer
  // who can be written to, and lintian with nothing to say above an informational note.
  EXPECT_EQ(testing::runCommand("gzip -t " + root + "/usr/share/man/man1/*.gz " + root +
                                "/usr/share/doc/chat-suite/changelog.gz")
                .exitCode,
            0);
  auto conffiles = testing::runCommand("dpkg-deb -I " + deb + " conffiles");
  EXPECT_EQ(conffiles.output,
            "/etc/chat/cluster.ini\n/etc/chat/cluster-3.ini\n/etc/chat/chat-node.properties\n"
            "/etc/chat/tui.ini\n");
  auto maintainer = testing::runCommand("dpkg-deb -f " + deb + " Maintainer");
  EXPECT_TRUE(std::regex_match(maintainer.output, std::regex("[^<]+ <[^@ ]+@[^ >]+>\n")))
      << maintainer.output;
  EXPECT_EQ(maintainer.output.find("localhost"), std::string::npos) << maintainer.output;
  auto lintian = testing::runCommand("lintian --fail-on error,warning " + deb + " 2>&1");
  EXPECT_EQ(lintian.exitCode, 0) << lintian.output;
  EXPECT_EQ(lintian.output.find("\nW: "), std::string::npos) << lintian.output;
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
