// Each message type's opcode, by name. The wire never depends on the order of the Request and
// Push variants: reordering them, or adding an alternative in the middle, changes no byte
// (STYLE 15, "persisted tags have names and fixed values"); the checks below fail the build if
// a type has no opcode, two share one, or a request takes a push's range.
#ifndef CHAT_PROTOCOL_MESSAGE_OPCODES_H_
#define CHAT_PROTOCOL_MESSAGE_OPCODES_H_

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <variant>

#include "chat/protocol/messages.h"

namespace chat::protocol {

template <class Message>
struct OpcodeOf;  // no default: a message type without a named opcode does not compile

template <Opcode op>
using IsOpcode = std::integral_constant<Opcode, op>;

template <> struct OpcodeOf<CreateRequest> : IsOpcode<Opcode::kCreate> {};
template <> struct OpcodeOf<ListRequest> : IsOpcode<Opcode::kList> {};
template <> struct OpcodeOf<LoginRequest> : IsOpcode<Opcode::kLogin> {};
template <> struct OpcodeOf<SendRequest> : IsOpcode<Opcode::kSend> {};
template <> struct OpcodeOf<DeleteAccountRequest> : IsOpcode<Opcode::kDeleteAccount> {};
template <> struct OpcodeOf<DeliverRequest> : IsOpcode<Opcode::kDeliver> {};
template <> struct OpcodeOf<HelpRequest> : IsOpcode<Opcode::kHelp> {};
template <> struct OpcodeOf<LogoutRequest> : IsOpcode<Opcode::kLogout> {};
template <> struct OpcodeOf<HistoryRequest> : IsOpcode<Opcode::kHistory> {};
template <> struct OpcodeOf<AckRequest> : IsOpcode<Opcode::kAck> {};
template <> struct OpcodeOf<StatusRequest> : IsOpcode<Opcode::kStatus> {};
template <> struct OpcodeOf<PingRequest> : IsOpcode<Opcode::kPing> {};
template <> struct OpcodeOf<ResumeRequest> : IsOpcode<Opcode::kResume> {};
template <> struct OpcodeOf<TypingRequest> : IsOpcode<Opcode::kTyping> {};
template <> struct OpcodeOf<CreateRoomRequest> : IsOpcode<Opcode::kCreateRoom> {};
template <> struct OpcodeOf<JoinRoomRequest> : IsOpcode<Opcode::kJoinRoom> {};
template <> struct OpcodeOf<LeaveRoomRequest> : IsOpcode<Opcode::kLeaveRoom> {};
template <> struct OpcodeOf<InviteToRoomRequest> : IsOpcode<Opcode::kInviteToRoom> {};
template <> struct OpcodeOf<ListRoomsRequest> : IsOpcode<Opcode::kListRooms> {};
template <> struct OpcodeOf<RoomMembersRequest> : IsOpcode<Opcode::kRoomMembers> {};
template <> struct OpcodeOf<ConversationsRequest> : IsOpcode<Opcode::kConversations> {};
template <> struct OpcodeOf<MarkReadRequest> : IsOpcode<Opcode::kMarkRead> {};

template <> struct OpcodeOf<MessagePush> : IsOpcode<Opcode::kPushMessage> {};
template <> struct OpcodeOf<PresencePush> : IsOpcode<Opcode::kPushPresence> {};
template <> struct OpcodeOf<LeaderPush> : IsOpcode<Opcode::kPushLeader> {};
template <> struct OpcodeOf<DeliveredPush> : IsOpcode<Opcode::kPushDelivered> {};
template <> struct OpcodeOf<SessionEndedPush> : IsOpcode<Opcode::kPushSessionEnded> {};
template <> struct OpcodeOf<TypingPush> : IsOpcode<Opcode::kPushTyping> {};
template <> struct OpcodeOf<RoomPush> : IsOpcode<Opcode::kPushRoom> {};

// The opcodes of a variant's alternatives, in its order.
template <class Variant, size_t... I>
constexpr auto opcodesOf(std::index_sequence<I...> /*alternatives*/) {
  return std::array<Opcode, sizeof...(I)>{
      OpcodeOf<std::variant_alternative_t<I, Variant>>::value...};
}
template <class Variant>
constexpr auto opcodesOf() {
  return opcodesOf<Variant>(std::make_index_sequence<std::variant_size_v<Variant>>{});
}

// True if no two alternatives share an opcode and each lies on its side of 128.
template <class Variant>
constexpr bool opcodesDistinctAndOnTheirSide(bool pushes) {
  constexpr auto kOps = opcodesOf<Variant>();
  for (size_t i = 0; i < kOps.size(); ++i) {
    if (isPush(kOps[i]) != pushes) {
      return false;
    }
    for (size_t j = i + 1; j < kOps.size(); ++j) {
      if (kOps[i] == kOps[j]) {
        return false;
      }
    }
  }
  return true;
}
static_assert(opcodesDistinctAndOnTheirSide<Request>(false),
              "every request needs an opcode of its own below 128");
static_assert(opcodesDistinctAndOnTheirSide<Push>(true),
              "every push needs an opcode of its own from 128 up");

template <class Variant>
Opcode opcodeOf(const Variant& message) {
  return std::visit(
      [](const auto& m) { return OpcodeOf<std::decay_t<decltype(m)>>::value; }, message);
}

}  // namespace chat::protocol

#endif  // CHAT_PROTOCOL_MESSAGE_OPCODES_H_
