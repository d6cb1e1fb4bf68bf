#include "chat/common/command_line.h"

namespace chat {

std::vector<std::string> splitOptionValues(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (i > 0 && a.rfind("--", 0) == 0 && eq != std::string::npos && eq > 2) {
      out.push_back(a.substr(0, eq));
      out.push_back(a.substr(eq + 1));
    } else {
      out.push_back(std::move(a));
    }
  }
  return out;
}

std::vector<char*> argvOf(std::vector<std::string>& args) {
  std::vector<char*> out;
  out.reserve(args.size() + 1);
  for (auto& a : args) {
    out.push_back(a.data());
  }
  out.push_back(nullptr);
  return out;
}

}  // namespace chat
