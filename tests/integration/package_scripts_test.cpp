// The package's maintainer scripts as they run on a real host (DPKG_ROOT empty, systemd
// running), which the scratch-root install of PackageTest cannot reach: each runs in a mount
// namespace of its own where /etc, /var/lib, /var/log and /run are scratch folders, with
// systemctl and deb-systemd-invoke replaced by scripts that report two running nodes and
// record what they are asked. Root only (namespaces and bind mounts).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "support/read_file.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using testing::readFile;

class PackageScriptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "not root: the maintainer scripts need a mount namespace";
    }
    for (const char* d : {"etc", "lib", "log", "run", "bin"}) {
      std::filesystem::create_directories(dir_.file(d));
    }
    // A copy of this host's /etc (awk and others reach their programs through
    // /etc/alternatives), with accounts of root alone and no chat settings.
    ASSERT_EQ(testing::runCommand("cp -a /etc/. " + dir_.file("etc")).exitCode, 0);
    std::filesystem::remove_all(dir_.file("etc/chat"));
    std::ofstream(dir_.file("etc/passwd")) << "root:x:0:0:root:/root:/bin/sh\n";
    std::ofstream(dir_.file("etc/group")) << "root:x:0:\n";
    std::ofstream(dir_.file("etc/shadow")) << "root:*:19000:0:99999:7:::\n";
    std::ofstream(dir_.file("etc/gshadow")) << "root:*::\n";
    std::filesystem::create_directories(dir_.file("etc/chat"));
    // Two nodes of the template run; a third unit is something else.
    std::ofstream(dir_.file("bin/systemctl"))
        << "#!/bin/sh\necho \"systemctl $*\" >> " << log() << "\n"
        << "case \"$*\" in *list-units*) printf 'chat-node@1.service loaded active running x\\n"
           "chat-node@3.service loaded active running x\\n' ;; esac\n";
    std::ofstream(dir_.file("bin/deb-systemd-invoke"))
        << "#!/bin/sh\necho \"deb-systemd-invoke $*\" >> " << log() << "\n";
    ::chmod(dir_.file("bin/systemctl").c_str(), 0755);
    ::chmod(dir_.file("bin/deb-systemd-invoke").c_str(), 0755);
  }

  // Runs cmake/debian/<script> with `args` as on a host with systemd.
  testing::CommandResult run(const std::string& script, const std::string& args) {
    std::string inner = "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && "
                        "mount --bind " + dir_.file("etc") + " /etc && "
                        "mount --bind " + dir_.file("lib") + " /var/lib && "
                        "mount --bind " + dir_.file("log") + " /var/log && "
                        "PATH=" + dir_.file("bin") + ":$PATH DPKG_ROOT= sh " +
                        CHAT_SOURCE_DIR + "/cmake/debian/" + script + " " + args;
    return testing::runCommand("unshare -m sh -c '" + inner + "' 2>&1");
  }
  std::string log() const { return dir_.file("calls.log"); }
  std::string calls() const { return readFile(log()); }

  testing::TempDir dir_;
};

TEST_F(PackageScriptsTest, AFreshInstallMakesUserFoldersAndSecretAndRestartsNothing) {
  auto r = run("postinst", "configure");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(std::regex_search(readFile(dir_.file("etc/passwd")),
                                std::regex("\nchat:x:[0-9]+:[0-9]+:[^:]*:/var/lib/chat:")))
      << readFile(dir_.file("etc/passwd"));
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("lib/chat").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat(dir_.file("log/chat").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(::stat(dir_.file("etc/chat/cluster.secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(calls().find("deb-systemd-invoke"), std::string::npos) << calls();
}

TEST_F(PackageScriptsTest, AnUpgradeRestartsTheRunningNodesOnceAndKeepsTheSecret) {
  ASSERT_EQ(run("postinst", "configure").exitCode, 0);
  std::string secret = readFile(dir_.file("etc/chat/cluster.secret"));
  auto upgradePrerm = run("prerm", "upgrade 0.6.0+1");
  ASSERT_EQ(upgradePrerm.exitCode, 0) << upgradePrerm.output;
  EXPECT_EQ(calls().find("deb-systemd-invoke"), std::string::npos)
      << "an upgrade's prerm stopped nodes: " << calls();
  auto r = run("postinst", "configure 0.6.0");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  std::string c = calls();
  EXPECT_NE(c.find("deb-systemd-invoke restart chat-node@1.service\n"), std::string::npos) << c;
  EXPECT_NE(c.find("deb-systemd-invoke restart chat-node@3.service\n"), std::string::npos) << c;
  EXPECT_EQ(c.find("stop"), std::string::npos) << c;
  EXPECT_EQ(readFile(dir_.file("etc/chat/cluster.secret")), secret);
}

TEST_F(PackageScriptsTest, RemoveStopsTheRunningNodesAndPurgeDeletesTheData) {
  ASSERT_EQ(run("postinst", "configure").exitCode, 0);
  std::ofstream(dir_.file("lib/chat/marker")) << "messages\n";
  auto remove = run("prerm", "remove");
  ASSERT_EQ(remove.exitCode, 0) << remove.output;
  std::string c = calls();
  EXPECT_NE(c.find("deb-systemd-invoke stop chat-node@1.service\n"), std::string::npos) << c;
  EXPECT_NE(c.find("deb-systemd-invoke stop chat-node@3.service\n"), std::string::npos) << c;
  auto removed = run("postrm", "remove");
  ASSERT_EQ(removed.exitCode, 0) << removed.output;
  EXPECT_TRUE(std::filesystem::exists(dir_.file("lib/chat/marker")));
  EXPECT_TRUE(std::filesystem::exists(dir_.file("etc/chat/cluster.secret")));
  auto purge = run("postrm", "purge");
  ASSERT_EQ(purge.exitCode, 0) << purge.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("lib/chat")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("log/chat")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("etc/chat/cluster.secret")));
}

}  // namespace
}  // namespace chat
