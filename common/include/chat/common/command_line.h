// Program arguments as the suite's parsers read them: "--name=value" split into "--name" and
// "value", so that both forms of an option mean the same to every program (chat-node takes
// both through Poco's option parser; the others read the two-word form).
// Thread contract: pure functions.
#ifndef CHAT_COMMON_COMMAND_LINE_H_
#define CHAT_COMMON_COMMAND_LINE_H_

#include <string>
#include <vector>

namespace chat {

// argv[0..argc) with every argument that starts with "--" and holds '=' split at the first '='.
std::vector<std::string> splitOptionValues(int argc, char** argv);
// argv-style pointers into `args`, null-terminated, for parsers that take (argc, argv).
// REQUIRES: `args` outlives the result and is not resized meanwhile.
std::vector<char*> argvOf(std::vector<std::string>& args);

}  // namespace chat

#endif  // CHAT_COMMON_COMMAND_LINE_H_
