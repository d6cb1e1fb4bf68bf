// ClientSession: what the chat service needs from a client connection, and nothing of
// sockets. The network layer implements it; tests implement it with a recorder.
// Thread contract: every method is thread-safe and non-blocking.
#ifndef CHAT_SERVICE_CLIENT_SESSION_H_
#define CHAT_SERVICE_CLIENT_SESSION_H_

#include <string>

#include "chat/protocol/messages.h"

namespace chat::service {

class ClientSession {
 public:
  virtual ~ClientSession() = default;
  // Queues a push for the client. May close a client whose output is backed up; a message
  // that never reaches it stays waiting in the store (it was not acknowledged).
  virtual void push(const protocol::Push& push) = 0;
  // The server ends the session (the account logged in elsewhere, or was deleted): tell the
  // client why and close.
  virtual void endSession(const std::string& reason) = 0;
  // Binary clients ack messages by id; line clients cannot, so a message handed to a line
  // client counts as delivered once written to its connection.
  virtual bool acksMessages() const = 0;
  // The client's address without the port (for throttling password guessing); empty when
  // unknown.
  virtual std::string peerAddress() const { return {}; }
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_CLIENT_SESSION_H_
