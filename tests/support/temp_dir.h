// TempDir: a fresh folder under $TMPDIR (or /tmp), removed with everything in it when the
// object goes away. Tests use one each, so runs never share state and can repeat.
#ifndef CHAT_TESTS_SUPPORT_TEMP_DIR_H_
#define CHAT_TESTS_SUPPORT_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace chat::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/chat-test-XXXXXX";
    path_ = ::mkdtemp(pattern.data()) ? pattern : std::string();
  }
  // CHAT_KEEP_TEMP=1 keeps the folder, to look at after a failure.
  ~TempDir() {
    if (const char* keep = std::getenv("CHAT_KEEP_TEMP"); keep != nullptr && *keep == '1') {
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;  // owns a folder
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_TEMP_DIR_H_
