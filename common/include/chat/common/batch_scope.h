// BatchScope: a thread marks a stretch of work that produces many hand-offs to other threads,
// so that the components it calls gather them per target and hand each target its share once,
// when the stretch ends: one lock and at most one wake-up per target instead of one per item.
// Two stretches use it: an event loop's iteration (every request that one epoll batch brings
// is proposed to the commit log at once, and so lands in one commit group) and the commit
// thread's handing out of a commit group (every reply and push of the group reaches each
// event loop at once).
//
// A component that supports gathering hands items over through handOverInScope() (below):
// while a scope is open it keeps each item in a list of this thread's for its target and
// registers a flush with atEnd() the first time. Nested scopes join the outermost one.
//
// Thread contract: a scope belongs to the thread that opened it; flushes run on that thread,
// in the order they were registered, when the outermost scope closes. Whatever a flush
// touches must outlive the scope.
#ifndef CHAT_COMMON_BATCH_SCOPE_H_
#define CHAT_COMMON_BATCH_SCOPE_H_

#include <algorithm>
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

// Hands `item` over to `target` by calling `handOver(std::vector<Item>)`: at once when this
// thread has no scope open; else kept in this thread's list for `target` and handed over with
// everything else gathered for it in one call when the outermost scope closes. `handOver` is
// copied into the scope's flush: whatever it touches (the target) must outlive the scope.
template <typename Target, typename Item, typename HandOver>
void handOverInScope(Target* target, Item item, const HandOver& handOver) {
  struct Gathered {
    Target* target;
    std::vector<Item> items;
  };
  // One list per thread and per kind of hand-over (each instantiation has its own).
  thread_local std::vector<Gathered> gathered;
  auto findTarget = [target] {
    return std::find_if(gathered.begin(), gathered.end(),
                        [target](const Gathered& g) { return g.target == target; });
  };
  BatchScope* batch = BatchScope::current();
  if (batch == nullptr) {
    std::vector<Item> one;
    one.push_back(std::move(item));
    handOver(std::move(one));
    return;
  }
  auto it = findTarget();
  if (it == gathered.end()) {
    gathered.push_back(Gathered{target, {}});
    it = gathered.end() - 1;
    batch->atEnd([findTarget, handOver] {
      auto found = findTarget();
      if (found == gathered.end()) {
        return;
      }
      std::vector<Item> items = std::move(found->items);
      gathered.erase(found);
      handOver(std::move(items));
    });
  }
  it->items.push_back(std::move(item));
}

}  // namespace chat

#endif  // CHAT_COMMON_BATCH_SCOPE_H_
