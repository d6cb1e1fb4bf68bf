// chat-node: see chat_node_app.h.
#include "chat_node_app.h"

int main(int argc, char** argv) {
  chat::node::ChatNodeApp app;
  return app.run(argc, argv);
}
