// tools/build as a user meets it, run on a scratch project of two small programs (its own
// copy of tools/build and tools/setup, so the suite's build folder is not touched): one line
// per step, the compiler's whole output kept in build/build.log, and, when the compile fails,
// the compiler's error shown with a non-zero exit (it once ended silently instead).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/read_file.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

namespace fs = std::filesystem;

class BuildScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.file("project");
    fs::create_directories(root_ + "/tools");
    for (const char* script : {"build", "setup"}) {
      fs::copy_file(std::string(CHAT_SOURCE_DIR) + "/tools/" + script,
                    root_ + "/tools/" + script);
    }
    write("CMakeLists.txt",
          "cmake_minimum_required(VERSION 3.16)\nproject(scratch CXX)\n"
          "add_executable(good good.cpp)\nadd_executable(bad bad.cpp)\n");
    write("good.cpp", "int main() { return 0; }\n");
    write("bad.cpp", "int main() { return undeclared_name_in_bad_cpp; }\n");
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(root_ + "/" + name) << text;
  }
  testing::CommandResult build(const std::string& targets) {
    // Not a terminal here, so one progress line per step.
    return testing::runCommand("cd " + root_ + " && tools/build " + targets + " </dev/null");
  }

  testing::TempDir dir_;
  std::string root_;
};

TEST_F(BuildScriptTest, ATargetBuildsWithOneLinePerStepAndTheLogKeepsTheRest) {
  auto r = build("good");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("tools/build: configuring (CMake)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("%] good.cpp"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("%] linking good"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tools/build: built good in "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("bad.cpp"), std::string::npos) << "only the target named is built";
  EXPECT_TRUE(fs::exists(root_ + "/build/good"));
  EXPECT_NE(testing::readFile(root_ + "/build/build.log").find("Building CXX object"),
            std::string::npos);
}

TEST_F(BuildScriptTest, AFailedCompileShowsTheCompilersErrorAndExitsNonZero) {
  auto r = build("bad");
  EXPECT_NE(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("undeclared_name_in_bad_cpp"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("error"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tools/build: the build failed after"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("build/build.log"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(root_ + "/build/.build-status")) << "the script leaves no scratch file";
}

}  // namespace
}  // namespace chat
