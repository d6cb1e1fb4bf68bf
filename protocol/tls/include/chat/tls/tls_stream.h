// TLS for the suite: TlsContext holds the certificates (loaded and checked by Poco NetSSL's
// Context), TlsStream runs OpenSSL over one non-blocking socket of the node's event loops or
// of a client, handshake included (the first reads and writes drive it).
//
// A server context needs a certificate and its private key; a client context needs the CA
// that signed the server's certificate, and checks the server's name or IP address against
// the certificate (its subject alternative names).
//
// Thread contract: a TlsContext is shared and read-only after creation; a TlsStream is used
// by one thread at a time.
#ifndef CHAT_TLS_TLS_STREAM_H_
#define CHAT_TLS_TLS_STREAM_H_

#include <chrono>
#include <memory>
#include <string>

#include "chat/common/status.h"
#include "chat/tls/stream.h"

namespace chat::tls {

struct ServerTlsSettings {
  std::string certificateFile;  // PEM, the chain from the node's certificate up
  std::string privateKeyFile;   // PEM
};

struct ClientTlsSettings {
  std::string caFile;  // PEM: the CA (or CAs) a server certificate must chain to
};

class TlsContext {
 public:
  // Errors: kInvalidArgument naming the file and what is wrong with it.
  static Result<std::shared_ptr<TlsContext>> server(const ServerTlsSettings& settings);
  static Result<std::shared_ptr<TlsContext>> client(const ClientTlsSettings& settings);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool isServer() const { return server_; }
  void* native() const;  // SSL_CTX*

 private:
  struct Impl;
  TlsContext(std::unique_ptr<Impl> impl, bool server);
  std::unique_ptr<Impl> impl_;
  bool server_;
};

// The name a server's certificate must carry when connecting to "host:port": the host as
// written (an IPv6 address without its brackets).
std::string serverNameOf(const std::string& hostPort);

class TlsStream final : public Stream {
 public:
  // A server side (accepting) or client side (connecting to `serverName`, a host name or an
  // IP address, which the certificate must name) over the connected socket `fd`.
  static Result<std::unique_ptr<TlsStream>> create(const TlsContext& context, int fd,
                                                   const std::string& serverName = "");
  ~TlsStream() override;
  TlsStream(const TlsStream&) = delete;  // owns an SSL session
  TlsStream& operator=(const TlsStream&) = delete;

  IoResult read(uint8_t* buffer, size_t size) override;
  IoResult write(const uint8_t* data, size_t size) override;
  std::string describe() const override;
  // Completes the handshake, waiting on the socket until `deadline`. For clients, which
  // want to know at connect time that the server is who it should be. Errors:
  // kUnavailable (refused: the reason, e.g. the certificate did not verify), kTimeout.
  Status handshake(std::chrono::steady_clock::time_point deadline);
  // Sends a close_notify, best effort (the socket is non-blocking).
  void shutdown() override;

 private:
  explicit TlsStream(void* ssl) : ssl_(ssl) {}
  IoResult result(int rc, const char* what);
  void* ssl_;
};

}  // namespace chat::tls

#endif  // CHAT_TLS_TLS_STREAM_H_
