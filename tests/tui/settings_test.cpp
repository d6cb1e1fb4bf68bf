#include <gtest/gtest.h>

#include <fstream>

#include "chat/tui/tui_settings.h"
#include "support/temp_dir.h"

namespace chat::tui {
namespace {

TEST(TuiSettingsTest, TheShippedTuiIniNamesTheShippedClustersNodes) {
  auto s = loadTuiSettings(std::string(CHAT_ETC_DIR) + "/tui.ini");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  auto cluster = serversOfCluster(std::string(CHAT_ETC_DIR) + "/cluster.ini");
  ASSERT_TRUE(cluster.has_value());
  EXPECT_EQ(s->servers, *cluster);
  EXPECT_TRUE(s->bell);
  EXPECT_FALSE(s->mouse);
  EXPECT_TRUE(s->autoDeliver);
}

TEST(TuiSettingsTest, ServersWinAndBadValuesAreNamed) {
  testing::TempDir dir;
  std::string path = dir.file("tui.ini");
  std::ofstream(path) << "[tui]\nservers = 10.0.0.1:7001, 10.0.0.2:7001\nmouse = on\n"
                         "user = alice\n";
  auto s = loadTuiSettings(path);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->servers, (std::vector<std::string>{"10.0.0.1:7001", "10.0.0.2:7001"}));
  EXPECT_TRUE(s->mouse);
  EXPECT_EQ(s->user, "alice");

  std::ofstream(path) << "[tui]\nservers = 10.0.0.1\n";
  auto bad = loadTuiSettings(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("'10.0.0.1' is not host:port"), std::string::npos)
      << bad.error().message();
  std::ofstream(path) << "[tui]\nbell = loud\n";
  bad = loadTuiSettings(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("tui.bell = 'loud' should be on or off"), std::string::npos)
      << bad.error().message();
  EXPECT_FALSE(loadTuiSettings(dir.file("missing.ini")).has_value());
  EXPECT_FALSE(parseServers("a:99999").has_value());
  EXPECT_FALSE(parseServers("").has_value());
}

}  // namespace
}  // namespace chat::tui
