// Overloaded: a set of lambdas as one visitor for std::visit, one per variant alternative.
#ifndef CHAT_COMMON_OVERLOADED_H_
#define CHAT_COMMON_OVERLOADED_H_

namespace chat {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace chat

#endif  // CHAT_COMMON_OVERLOADED_H_
