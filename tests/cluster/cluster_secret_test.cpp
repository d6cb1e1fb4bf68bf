// The cluster secret: weak and shipped values are refused with what to do, a secret file
// others may read is refused, a made secret passes and stays private, and each purpose gets
// a key of its own that is the same on every node (RFC 5869's test vector checks HKDF).
#include "chat/cluster/cluster_secret.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "support/cluster_secret.h"
#include "support/temp_dir.h"

namespace chat::cluster {
namespace {

ClusterConfig withSecretFile(const std::string& path) {
  ClusterConfig c;
  c.source = "test.ini";
  c.secretFile = path;
  return c;
}

TEST(ClusterSecretTest, WeakAndShippedSecretsAreRefusedWithWhatToDo) {
  for (std::string weak : {std::string("change-me-a-long-random-string"), std::string(40, 'a'),
                           std::string("abababababababababababababababababababab"),
                           std::string("integration-test-secret-42"), std::string("0123456789abcdef")}) {
    Status s = checkSecretStrength(weak, "[cluster] secret");
    ASSERT_FALSE(s.isOk()) << weak;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("openssl rand -hex 32"), std::string::npos) << s.message();
  }
  EXPECT_NE(checkSecretStrength("change-me-a-long-random-string", "x").message().find("shipped"),
            std::string::npos);
  EXPECT_EQ(estimateSecretBits(std::string(40, 'a')), 0);
  // What the advice makes passes: 64 hex digits, and 44 base64 characters.
  EXPECT_TRUE(checkSecretStrength(testing::randomSecret(), "x").isOk());
  EXPECT_TRUE(checkSecretStrength("q3Zr8v1XkPp0m2Yh7tLw9sBc4JdEa6Nf5Gu+RiHoTzA=", "x").isOk());
  EXPECT_GT(estimateSecretBits(testing::randomSecret()), 200);
}

TEST(ClusterSecretTest, AMadeSecretIsPrivateStrongAndNeverReplaced) {
  testing::TempDir dir;
  std::string path = dir.file("deeper/cluster.secret");
  ASSERT_TRUE(makeSecretFile(path).isOk());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ClusterConfig c = withSecretFile(path);
  ASSERT_TRUE(loadClusterSecret(c).isOk());
  EXPECT_EQ(c.secret.size(), 64u);  // read without its newline
  EXPECT_FALSE(makeSecretFile(path).isOk());  // an existing secret is never replaced
  ClusterConfig again = withSecretFile(path);
  ASSERT_TRUE(loadClusterSecret(again).isOk());
  EXPECT_EQ(again.secret, c.secret);
}

TEST(ClusterSecretTest, ASecretFileOthersMayReadOrAMissingOneIsRefused) {
  testing::TempDir dir;
  std::string path = dir.file("cluster.secret");
  ClusterConfig missing = withSecretFile(path);
  Status s = loadClusterSecret(missing);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find(path), std::string::npos);
  ASSERT_TRUE(testing::writePrivateFile(path, testing::randomSecret() + "\n"));
  ::chmod(path.c_str(), 0644);
  ClusterConfig open = withSecretFile(path);
  s = loadClusterSecret(open);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("chmod 600"), std::string::npos) << s.message();
  ::chmod(path.c_str(), 0640);  // a service group may read it (the package: root:chat)
  ClusterConfig group = withSecretFile(path);
  EXPECT_TRUE(loadClusterSecret(group).isOk());
  ASSERT_TRUE(testing::writePrivateFile(path, "change-me-a-long-random-string\n"));
  ClusterConfig shipped = withSecretFile(path);
  EXPECT_FALSE(loadClusterSecret(shipped).isOk());
  ClusterConfig none;
  none.source = "test.ini";
  EXPECT_NE(loadClusterSecret(none).message().find("secret_file"), std::string::npos);
}

TEST(ClusterSecretTest, HkdfMatchesRfc5869TestCaseOne) {
  std::string ikm(22, '\x0b');
  std::string salt;
  for (int i = 0; i <= 0x0c; ++i) {
    salt += static_cast<char>(i);
  }
  std::string info;
  for (int i = 0xf0; i <= 0xf9; ++i) {
    info += static_cast<char>(i);
  }
  ClusterKey okm = hkdfSha256(ikm, salt, info);
  char hex[65];
  for (size_t i = 0; i < okm.size(); ++i) {
    std::snprintf(hex + 2 * i, 3, "%02x", okm[i]);
  }
  // The first 32 of the RFC's 42 bytes of OKM.
  EXPECT_EQ(std::string(hex), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
}

TEST(ClusterSecretTest, KeysArePerPurposeAndTheSameOnEveryNode) {
  std::string secret = testing::randomSecret();
  EXPECT_EQ(deriveClusterKey(secret, "peer authentication"),
            deriveClusterKey(secret, "peer authentication"));
  EXPECT_NE(deriveClusterKey(secret, "peer authentication"),
            deriveClusterKey(secret, "session tokens"));
  EXPECT_NE(deriveClusterKey(secret, "session tokens"),
            deriveClusterKey(testing::randomSecret(), "session tokens"));
}

}  // namespace
}  // namespace chat::cluster
