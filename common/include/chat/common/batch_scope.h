// BatchScope: a thread marks a stretch of work that produces many hand-offs to other threads,
// so that the components it calls gather them per target and hand each target its share once,
// when the stretch ends: one lock and at most one wake-up per target instead of one per item.
// Two stretches use it: an event loop's iteration (every request that one epoll batch brings
// is proposed to the commit log at once, and so lands in one commit group) and the commit
// thread's handing out of a commit group (every reply and push of the group reaches each
// event loop at once).
//
// A component that supports gathering checks current() when asked to hand something over;
// while a scope is open it keeps the item in a list of its own for this thread and registers
// a flush with atEnd() the first time. Nested scopes join the outermost one.
//
// Thread contract: a scope belongs to the thread that opened it; flushes run on that thread,
// in the order they were registered, when the outermost scope closes. Whatever a flush
// touches must outlive the scope.
#ifndef CHAT_COMMON_BATCH_SCOPE_H_
#define CHAT_COMMON_BATCH_SCOPE_H_

#include <functional>
#include <vector>

namespace chat {

class BatchScope {
 public:
  BatchScope();
  ~BatchScope();  // the outermost scope runs every registered flush
  BatchScope(const BatchScope&) = delete;  // bound to its thread and stack frame
  BatchScope& operator=(const BatchScope&) = delete;

  // The outermost open scope of this thread, or null when none is open.
  static BatchScope* current();
  // Runs `flush` when the outermost scope closes. A flush may hand over more (it then goes
  // directly: the scope is closing) but must not open another scope's flushes.
  void atEnd(std::function<void()> flush);

 private:
  bool outermost_;
  std::vector<std::function<void()>> flushes_;
};

}  // namespace chat

#endif  // CHAT_COMMON_BATCH_SCOPE_H_
