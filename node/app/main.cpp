// chat-node: see chat_node_app.h.
#include <malloc.h>

#include "chat/common/process_info.h"
#include "chat_node_app.h"

int main(int argc, char** argv) {
  chat::keepNewFilesPrivate();  // umask 077: what we write holds messages and secrets
  // glibc returns freed heap to the kernel eagerly (madvise per free burst), and each return
  // costs a TLB shootdown across threads: a fifth of the commit thread's time under load.
  // Keep up to 64 MiB of free heap instead.
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  mallopt(M_TOP_PAD, 16 * 1024 * 1024);
  chat::node::ChatNodeApp app;
  if (auto refused = app.refuseBadCommandLine(argc, argv)) {
    return *refused;
  }
  return app.run(argc, argv);
}
