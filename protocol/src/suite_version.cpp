#include "chat/protocol/suite_version.h"

#include "chat/protocol/wire_types.h"

#ifndef CHAT_SUITE_VERSION
#error "CHAT_SUITE_VERSION comes from protocol/CMakeLists.txt (the project version)"
#endif

namespace chat::protocol {

const char* suiteVersion() {
  return CHAT_SUITE_VERSION;
}

std::string versionText(const std::string& program) {
  return program + " " + CHAT_SUITE_VERSION + " (chat suite; binary protocol " +
         std::to_string(kBinaryVersion) + ", line protocol " + std::to_string(kLineVersion) +
         ")\n";
}

}  // namespace chat::protocol
