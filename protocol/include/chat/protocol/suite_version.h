// The version every program of the suite prints for --version: the suite's release (the
// CMake project version) and the protocol versions it speaks, so that a user comparing two
// installations sees at once whether their programs can talk to each other.
// Thread contract: pure.
#ifndef CHAT_PROTOCOL_SUITE_VERSION_H_
#define CHAT_PROTOCOL_SUITE_VERSION_H_

#include <string>

namespace chat::protocol {

// "0.6.0"
const char* suiteVersion();
// "chat-bench 0.6.0 (chat suite; binary protocol 4, line protocol 1)\n"
std::string versionText(const std::string& program);

}  // namespace chat::protocol

#endif  // CHAT_PROTOCOL_SUITE_VERSION_H_
