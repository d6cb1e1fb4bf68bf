// messageEntry: a log entry holding a stored message, for the tests of Raft's storage.
#ifndef CHAT_TESTS_SUPPORT_MESSAGE_ENTRY_H_
#define CHAT_TESTS_SUPPORT_MESSAGE_ENTRY_H_

#include <cstdint>
#include <string>

#include "chat/log/entry.h"
#include "chat/storage/operation.h"

namespace chat::testing {

inline log::Entry messageEntry(uint64_t epoch, uint64_t index, std::string body = "x") {
  return log::Entry{epoch, index,
                    storage::encodeOperation(storage::StoreMessageOp{"a", "b", body, 1, index})};
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_MESSAGE_ENTRY_H_
