// readFile: a file's whole contents, or "" when it cannot be read.
#ifndef CHAT_TESTS_SUPPORT_READ_FILE_H_
#define CHAT_TESTS_SUPPORT_READ_FILE_H_

#include <fstream>
#include <sstream>
#include <string>

namespace chat::testing {

inline std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_READ_FILE_H_
