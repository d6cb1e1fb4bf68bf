// Text from one user on another's terminal: what nc/telnet users (line mode), operators
// reading logs and the supervisor's event lines see, written to their terminal as it is.
// Control characters there are commands, not text: ESC starts sequences that clear lines,
// move the cursor (forging "From admin: ...") or, with OSC 52, write the clipboard; C1
// controls do the same on terminals that honour them; bidirectional controls reorder what
// follows ("Trojan Source"). So they are shown as visible escapes instead: C0 and DEL as
// \xHH, C1 and the bidi controls as \uHHHH. The chat-tui draws them as spaces (its canvas).
//
// Thread contract: pure functions.
#ifndef CHAT_COMMON_TERMINAL_TEXT_H_
#define CHAT_COMMON_TERMINAL_TEXT_H_

#include <string>
#include <string_view>

namespace chat {

// Whether the code point is one that terminalSafe() escapes (tab and newline included; the
// caller decides which of those it lets through).
bool isTerminalControl(char32_t cp);
// `text` with every terminal control escaped, except those in `keep` (e.g. "\t").
// Bytes that are not valid UTF-8 are escaped one by one as \xHH.
std::string terminalSafe(std::string_view text, std::string_view keep = {});

}  // namespace chat

#endif  // CHAT_COMMON_TERMINAL_TEXT_H_
