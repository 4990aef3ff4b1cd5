// One side of an intercepted connection as the relay sees it: raw bytes from and to a socket on
// one face, plaintext on the other. TlsChannel encrypts (OpenSSL over memory BIOs, so the relay
// owns every read and write and bytes read before the handshake can be fed in); PlainChannel
// passes bytes as they are (a local endpoint, an mTLS credential's plain-TCP client).
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace airlock::intercept {

class RunCa;

class Channel {
 public:
  enum class State { open, closed, failed };
  virtual ~Channel() = default;
  virtual void put_raw(std::string_view bytes) = 0;  // read from the socket
  // Advances the handshake, encrypts what write_plain() queued and appends arrived plaintext to
  // `plain`. closed: the peer ended the stream cleanly (TLS close_notify); failed: see error().
  virtual State pump(std::string& plain) = 0;
  virtual void write_plain(std::string_view bytes) = 0;
  virtual void take_raw(std::string& out) = 0;  // to write to the socket
  virtual void close() = 0;                     // close_notify for TLS
  virtual bool ready() const = 0;               // handshake done (always, for plain)
  virtual const std::string& error() const = 0;
};

class PlainChannel final : public Channel {
 public:
  void put_raw(std::string_view bytes) override { in_.append(bytes); }
  State pump(std::string& plain) override;
  void write_plain(std::string_view bytes) override { out_.append(bytes); }
  void take_raw(std::string& out) override;
  void close() override {}
  bool ready() const override { return true; }
  const std::string& error() const override { return error_; }

 private:
  std::string in_, out_, error_;
};

// The sandbox's side of an mTLS credential's connection: TLS (terminated with the run CA) when
// the client's first byte opens a TLS record, plain TCP otherwise. Decided by that byte, or plain
// when the upstream speaks first (a TLS client always speaks first).
class FirstByteChannel final : public Channel {
 public:
  using MakeTls = std::function<Result<std::unique_ptr<Channel>>()>;
  explicit FirstByteChannel(MakeTls make_tls) : make_tls_(std::move(make_tls)) {}
  void put_raw(std::string_view bytes) override;
  State pump(std::string& plain) override;
  void write_plain(std::string_view bytes) override;
  void take_raw(std::string& out) override;
  void close() override;
  bool ready() const override { return inner_ && inner_->ready(); }
  const std::string& error() const override { return inner_ ? inner_->error() : error_; }

 private:
  MakeTls make_tls_;
  std::unique_ptr<Channel> inner_;
  std::string error_;
};

class TlsChannel final : public Channel {
 public:
  // The sandbox's side: airlock is the server, with a leaf from `ca` for the SNI name, which
  // must be one of `names` (no SNI: `default_name`). Offers HTTP/1.1 only in ALPN.
  static Result<std::unique_ptr<TlsChannel>> server(SSL_CTX* context, RunCa& ca,
                                                    std::vector<std::string> names,
                                                    std::string default_name);
  // The upstream side: airlock is the client, verifying `host` (SNI and certificate name).
  static Result<std::unique_ptr<TlsChannel>> client(SSL_CTX* context, const std::string& host);
  ~TlsChannel() override;

  void put_raw(std::string_view bytes) override;
  State pump(std::string& plain) override;
  void write_plain(std::string_view bytes) override { pending_plain_.append(bytes); }
  void take_raw(std::string& out) override;
  void close() override;
  bool ready() const override { return handshake_done_; }
  const std::string& error() const override { return error_; }
  const std::string& server_name() const { return server_name_; }
  const std::string& upstream_host() const { return upstream_host_; }

  // For the SNI callback (run_ca leaf selection).
  static int on_server_name(SSL* ssl, int* alert, void* argument);

 private:
  TlsChannel() = default;
  static Result<std::unique_ptr<TlsChannel>> over_memory(SSL_CTX* context);
  State fail(const std::string& what, int ssl_error);

  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
  bool handshake_done_ = false;
  bool closed_ = false;
  std::string pending_plain_;
  std::string error_;
  std::string upstream_host_;  // client side: the name verified, the key of its session
  // server side
  RunCa* ca_ = nullptr;
  std::vector<std::string> names_;
  std::string default_name_;
  std::string server_name_;
};

// The contexts of one run: one server context for the sandbox's side, one client context for
// upstreams (the host's trust store plus network.upstream_ca), and one per mTLS credential.
// Upstream sessions by host name, so that a new intercepted connection resumes (TLS 1.3 PSK)
// instead of verifying the origin's chain again: the session was verified for that very name.
class UpstreamSessions {
 public:
  UpstreamSessions() = default;
  ~UpstreamSessions();
  UpstreamSessions(const UpstreamSessions&) = delete;
  UpstreamSessions& operator=(const UpstreamSessions&) = delete;
  // Makes `context` offer and remember sessions through this cache.
  void attach(SSL_CTX* context);
  SSL_SESSION* find(const std::string& host) const;

 private:
  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  std::map<std::string, SSL_SESSION*> sessions_;
};

struct TlsContexts {
  struct Free {
    void operator()(SSL_CTX* context) const;  // in channel.cpp, where OpenSSL is reachable
  };
  using ContextPtr = std::unique_ptr<SSL_CTX, Free>;
  ContextPtr server;
  ContextPtr upstream;
  std::unique_ptr<UpstreamSessions> sessions = std::make_unique<UpstreamSessions>();
};

Result<TlsContexts> make_tls_contexts(const std::optional<std::string>& upstream_ca);
// A client context that presents `cert`/`key` and trusts only `ca` (an mTLS credential); it
// remembers its sessions in `sessions`.
Result<TlsContexts::ContextPtr> make_mtls_context(const std::string& cert, const std::string& key,
                                                  const std::string& ca,
                                                  UpstreamSessions& sessions);

}  // namespace airlock::intercept
