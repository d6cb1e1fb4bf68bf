#include "chat/tls/tls_stream.h"

#include <arpa/inet.h>
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>

namespace chat::tls {

namespace {

void initializeOnce() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

// The reasons OpenSSL queued for this thread, oldest first, then cleared.
std::string sslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out;
}

bool isIpAddress(const std::string& name) {
  in6_addr v6{};
  in_addr v4{};
  return ::inet_pton(AF_INET, name.c_str(), &v4) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), &v6) == 1;
}

SSL* sslOf(void* p) {
  return static_cast<SSL*>(p);
}

}  // namespace

struct TlsContext::Impl {
  Poco::Net::Context::Ptr context;
};

TlsContext::TlsContext(std::unique_ptr<Impl> impl, bool server)
    : impl_(std::move(impl)), server_(server) {}

TlsContext::~TlsContext() = default;

void* TlsContext::native() const {
  return impl_->context->sslContext();
}

Result<std::shared_ptr<TlsContext>> TlsContext::server(const ServerTlsSettings& settings) {
  initializeOnce();
  if (settings.certificateFile.empty() || settings.privateKeyFile.empty()) {
    return Status::invalidArgument(
        "TLS needs both a certificate file and a private key file (PEM)");
  }
  Poco::Net::Context::Params params;
  params.certificateFile = settings.certificateFile;
  params.privateKeyFile = settings.privateKeyFile;
  params.verificationMode = Poco::Net::Context::VERIFY_NONE;  // clients prove themselves by password
  params.loadDefaultCAs = false;
  params.cipherList = "HIGH:!aNULL:!MD5:!RC4";
  auto impl = std::make_unique<Impl>();
  try {
    impl->context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    impl->context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument("cannot use the certificate " + settings.certificateFile +
                                   " with the key " + settings.privateKeyFile + ": " +
                                   e.displayText() + " " + sslErrors());
  }
  SSL_CTX* ctx = impl->context->sslContext();
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::invalidArgument("the private key " + settings.privateKeyFile +
                                   " does not belong to the certificate " +
                                   settings.certificateFile);
  }
  // The event loops write from a buffer that may move between a write that would block and
  // its retry, and take partial writes like a plain socket's.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // No TLS 1.3 session tickets: no client resumes sessions, and a peer connection's writer
  // side would otherwise find unexpected bytes to read.
  SSL_CTX_set_num_tickets(ctx, 0);
  return std::shared_ptr<TlsContext>(new TlsContext(std::move(impl), true));
}

Result<std::shared_ptr<TlsContext>> TlsContext::client(const ClientTlsSettings& settings) {
  initializeOnce();
  if (settings.caFile.empty()) {
    return Status::invalidArgument("TLS needs the CA file (PEM) that signed the server's "
                                   "certificate, to know the server is genuine");
  }
  Poco::Net::Context::Params params;
  params.caLocation = settings.caFile;
  params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;  // the server must verify
  params.loadDefaultCAs = false;
  params.cipherList = "HIGH:!aNULL:!MD5:!RC4";
  auto impl = std::make_unique<Impl>();
  try {
    impl->context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    impl->context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument("cannot use the CA file " + settings.caFile + ": " +
                                   e.displayText() + " " + sslErrors());
  }
  SSL_CTX* ctx = impl->context->sslContext();
  // Poco loads a missing CA file without complaint: an empty store would refuse every
  // server with a confusing message later, so say it now.
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  if (store == nullptr || X509_STORE_get0_objects(store) == nullptr ||
      sk_X509_OBJECT_num(X509_STORE_get0_objects(store)) == 0) {
    return Status::invalidArgument("the CA file " + settings.caFile +
                                   " holds no certificate (is the path right, is it PEM?)");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return std::shared_ptr<TlsContext>(new TlsContext(std::move(impl), false));
}

std::string serverNameOf(const std::string& hostPort) {
  std::string host = hostPort.substr(0, hostPort.rfind(':'));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

Result<std::unique_ptr<TlsStream>> TlsStream::create(const TlsContext& context, int fd,
                                                     const std::string& serverName) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(context.native()));
  if (ssl == nullptr) {
    return Status::ioError("cannot start a TLS session: " + sslErrors());
  }
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl));
  if (SSL_set_fd(ssl, fd) != 1) {
    return Status::ioError("cannot start a TLS session: " + sslErrors());
  }
  if (context.isServer()) {
    SSL_set_accept_state(ssl);
    return stream;
  }
  SSL_set_connect_state(ssl);
  if (!serverName.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    int ok = isIpAddress(serverName) ? X509_VERIFY_PARAM_set1_ip_asc(param, serverName.c_str())
                                     : X509_VERIFY_PARAM_set1_host(param, serverName.c_str(), 0);
    if (ok != 1) {
      return Status::invalidArgument("cannot check the server's name " + serverName + ": " +
                                     sslErrors());
    }
    if (!isIpAddress(serverName)) {
      // SNI, for servers behind a name-based proxy (SSL_set_tlsext_host_name, without its cast).
      SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(serverName.c_str()));
    }
  }
  return stream;
}

TlsStream::~TlsStream() {
  SSL_free(sslOf(ssl_));
}

IoResult TlsStream::result(int rc, const char* what) {
  int error = SSL_get_error(sslOf(ssl_), rc);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      return IoResult::wantRead();
    case SSL_ERROR_WANT_WRITE:
      return IoResult::wantWrite();
    case SSL_ERROR_ZERO_RETURN:
      return IoResult::closed();
    case SSL_ERROR_SYSCALL:
      break;
    default: {
      long verify = SSL_get_verify_result(sslOf(ssl_));
      if (verify != X509_V_OK) {
        return IoResult::failed(std::string("the server's certificate did not verify (") +
                                X509_verify_cert_error_string(verify) + ")");
      }
      return IoResult::failed(std::string(what) + ": " + sslErrors());
    }
  }
  int saved = errno;
  std::string queued = sslErrors();
  if (queued.empty() && (saved == 0 || saved == ECONNRESET || saved == EPIPE)) {
    return IoResult::closed();  // the peer went away without a close_notify
  }
  return IoResult::failed(std::string(what) + ": " +
                          (queued.empty() ? std::strerror(saved) : queued));
}

IoResult TlsStream::read(uint8_t* buffer, size_t size) {
  ERR_clear_error();
  errno = 0;
  int n = SSL_read(sslOf(ssl_), buffer, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
  if (n > 0) {
    return IoResult::ok(static_cast<size_t>(n));
  }
  return result(n, "TLS read");
}

IoResult TlsStream::write(const uint8_t* data, size_t size) {
  ERR_clear_error();
  errno = 0;
  int n = SSL_write(sslOf(ssl_), data, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
  if (n > 0) {
    return IoResult::ok(static_cast<size_t>(n));
  }
  return result(n, "TLS write");
}

Status TlsStream::handshake(std::chrono::steady_clock::time_point deadline) {
  SSL* ssl = sslOf(ssl_);
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
      return Status::ok();
    }
    IoResult r = result(rc, "TLS handshake");
    short events = 0;
    if (r.kind == IoResult::Kind::kWantRead) {
      events = POLLIN;
    } else if (r.kind == IoResult::Kind::kWantWrite) {
      events = POLLOUT;
    } else if (r.kind == IoResult::Kind::kClosed) {
      return Status::unavailable(
          "the server closed the connection during the TLS handshake (does it speak TLS on "
          "this port?)");
    } else {
      return Status::unavailable(r.error);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status::timeout("the TLS handshake timed out (does the server speak TLS here?)");
    }
    pollfd p{SSL_get_fd(ssl), events, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
  }
}

void TlsStream::shutdown() {
  ERR_clear_error();
  (void)SSL_shutdown(sslOf(ssl_));
  ERR_clear_error();
}

std::string TlsStream::describe() const {
  SSL* ssl = sslOf(ssl_);
  if (SSL_is_init_finished(ssl) != 1) {
    return "";
  }
  return std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
}

}  // namespace chat::tls
