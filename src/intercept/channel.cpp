#include "intercept/channel.h"

#include <algorithm>
#include <optional>

#include "intercept/openssl_error.h"
#include "intercept/run_ca.h"

// Last, in a block of its own: OpenSSL's functions become the slots of its dlopen table.
#include "intercept/openssl_library.h"

namespace airlock::intercept {
namespace {

constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Only HTTP/1.1, whose every request the proxy parses; a client that offers only h2 gets no
// ALPN answer and speaks HTTP/1.1 by default (HTTP/2 may come later).
int select_http11(SSL*, const unsigned char** out, unsigned char* out_length,
                  const unsigned char* offered, unsigned int offered_length, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kAlpnHttp11, sizeof kAlpnHttp11, offered,
                            offered_length) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

void TlsContexts::Free::operator()(SSL_CTX* context) const {
  SSL_CTX_free(context);
}

UpstreamSessions::~UpstreamSessions() {
  for (auto& [host, session] : sessions_) SSL_SESSION_free(session);
}

void UpstreamSessions::attach(SSL_CTX* context) {
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_set_app_data(context, this);
  SSL_CTX_sess_set_new_cb(context, on_new_session);
}

SSL_SESSION* UpstreamSessions::find(const std::string& host) const {
  auto found = sessions_.find(host);
  return found == sessions_.end() ? nullptr : found->second;
}

// Called by OpenSSL for each session (ticket) the origin issues; returning 1 keeps the reference.
int UpstreamSessions::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* cache = static_cast<UpstreamSessions*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto* channel = static_cast<TlsChannel*>(SSL_get_app_data(ssl));
  if (cache == nullptr || channel == nullptr || channel->upstream_host().empty()) return 0;
  SSL_SESSION*& slot = cache->sessions_[channel->upstream_host()];
  if (slot != nullptr) SSL_SESSION_free(slot);
  slot = session;
  return 1;
}

Channel::State PlainChannel::pump(std::string& plain) {
  plain += in_;
  in_.clear();
  return State::open;
}

void PlainChannel::take_raw(std::string& out) {
  out += out_;
  out_.clear();
}

void FirstByteChannel::put_raw(std::string_view bytes) {
  if (!inner_ && !bytes.empty()) {
    if (bytes.front() == 0x16) {
      Result<std::unique_ptr<Channel>> tls = make_tls_();
      if (!tls) {
        error_ = tls.error().message;
        return;
      }
      inner_ = std::move(tls).value();
    } else {
      inner_ = std::make_unique<PlainChannel>();
    }
  }
  if (inner_) inner_->put_raw(bytes);
}

Channel::State FirstByteChannel::pump(std::string& plain) {
  if (!error_.empty()) return State::failed;
  return inner_ ? inner_->pump(plain) : State::open;
}

void FirstByteChannel::write_plain(std::string_view bytes) {
  if (!inner_ && !bytes.empty()) inner_ = std::make_unique<PlainChannel>();
  if (inner_) inner_->write_plain(bytes);
}

void FirstByteChannel::take_raw(std::string& out) {
  if (inner_) inner_->take_raw(out);
}

void FirstByteChannel::close() {
  if (inner_) inner_->close();
}

int TlsChannel::on_server_name(SSL* ssl, int* alert, void*) {
  auto* channel = static_cast<TlsChannel*>(SSL_get_app_data(ssl));
  const char* sent = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  std::string name = sent != nullptr ? lower(sent) : channel->default_name_;
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (sent != nullptr && !channel->names_.empty() &&
      std::find(channel->names_.begin(), channel->names_.end(), name) == channel->names_.end()) {
    channel->error_ = "TLS SNI " + name + " is not the destination that was allowed";
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  channel->server_name_ = name;
  Result<X509*> leaf = channel->ca_->leaf_for(name);
  if (!leaf || SSL_use_certificate(ssl, *leaf) != 1 ||
      SSL_use_PrivateKey(ssl, channel->ca_->leaf_key()) != 1) {
    channel->error_ =
        leaf ? openssl_error_text("cannot use the leaf for " + name) : leaf.error().message;
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

// A channel whose SSL reads from and writes to memory BIOs the relay fills and drains.
Result<std::unique_ptr<TlsChannel>> TlsChannel::over_memory(SSL_CTX* context) {
  std::unique_ptr<TlsChannel> channel(new TlsChannel());
  channel->ssl_ = SSL_new(context);
  if (channel->ssl_ == nullptr) return Error{openssl_error_text("SSL_new")};
  channel->in_ = BIO_new(BIO_s_mem());
  channel->out_ = BIO_new(BIO_s_mem());
  if (channel->in_ == nullptr || channel->out_ == nullptr) {
    BIO_free(channel->in_);
    BIO_free(channel->out_);
    return Error{openssl_error_text("BIO_new")};
  }
  BIO_set_mem_eof_return(channel->in_, -1);  // empty means "more later", not end of stream
  SSL_set_bio(channel->ssl_, channel->in_, channel->out_);
  SSL_set_app_data(channel->ssl_, channel.get());
  return channel;
}

Result<std::unique_ptr<TlsChannel>> TlsChannel::server(SSL_CTX* context, RunCa& ca,
                                                       std::vector<std::string> names,
                                                       std::string default_name) {
  Result<std::unique_ptr<TlsChannel>> made = over_memory(context);
  if (!made) return made.error();
  std::unique_ptr<TlsChannel> channel = std::move(made).value();
  channel->ca_ = &ca;
  channel->names_ = std::move(names);
  channel->default_name_ = std::move(default_name);
  SSL_set_accept_state(channel->ssl_);
  return channel;
}

Result<std::unique_ptr<TlsChannel>> TlsChannel::client(SSL_CTX* context, const std::string& host) {
  Result<std::unique_ptr<TlsChannel>> made = over_memory(context);
  if (!made) return made.error();
  std::unique_ptr<TlsChannel> channel = std::move(made).value();
  // SNI, and the certificate must name `host` (checked by OpenSSL during the handshake).
  if (SSL_set_tlsext_host_name(channel->ssl_, host.c_str()) != 1 ||
      SSL_set1_host(channel->ssl_, host.c_str()) != 1) {
    return Error{openssl_error_text("cannot set the TLS name " + host)};
  }
  SSL_set_hostflags(channel->ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  channel->upstream_host_ = host;
  auto* sessions = static_cast<UpstreamSessions*>(SSL_CTX_get_app_data(context));
  if (SSL_SESSION* session = sessions != nullptr ? sessions->find(host) : nullptr) {
    SSL_set_session(channel->ssl_, session);  // takes its own reference
  }
  SSL_set_connect_state(channel->ssl_);
  return channel;
}

TlsChannel::~TlsChannel() {
  SSL_free(ssl_);  // frees both BIOs
}

void TlsChannel::put_raw(std::string_view bytes) {
  if (!bytes.empty()) BIO_write(in_, bytes.data(), static_cast<int>(bytes.size()));
}

Channel::State TlsChannel::fail(const std::string& what, int ssl_error) {
  if (error_.empty()) {
    if (ssl_error == SSL_ERROR_SSL && SSL_get_verify_result(ssl_) != X509_V_OK) {
      error_ = what + ": certificate verification failed: " +
               X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
      ERR_clear_error();
    } else {
      error_ = openssl_error_text(what);
    }
  }
  return State::failed;
}

Channel::State TlsChannel::pump(std::string& plain) {
  if (!handshake_done_) {
    const int result = SSL_do_handshake(ssl_);
    if (result != 1) {
      const int error = SSL_get_error(ssl_, result);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return State::open;
      return fail("TLS handshake", error);
    }
    handshake_done_ = true;
  }
  while (!pending_plain_.empty() && !closed_) {
    const int written =
        SSL_write(ssl_, pending_plain_.data(),
                  static_cast<int>(std::min<size_t>(pending_plain_.size(), 1 << 20)));
    if (written <= 0) {
      const int error = SSL_get_error(ssl_, written);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
      return fail("TLS write", error);
    }
    pending_plain_.erase(0, static_cast<size_t>(written));
  }
  char buffer[16384];
  for (;;) {
    const int got = SSL_read(ssl_, buffer, sizeof buffer);
    if (got > 0) {
      plain.append(buffer, static_cast<size_t>(got));
      continue;
    }
    const int error = SSL_get_error(ssl_, got);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return State::open;
    if (error == SSL_ERROR_ZERO_RETURN) return State::closed;
    return fail("TLS read", error);
  }
}

void TlsChannel::take_raw(std::string& out) {
  char buffer[16384];
  int got = 0;
  while ((got = BIO_read(out_, buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(got));
}

void TlsChannel::close() {
  if (closed_ || !handshake_done_) return;
  // What was queued goes before the close_notify: the last bytes of a response the origin
  // ended the connection after.
  while (!pending_plain_.empty()) {
    const int written =
        SSL_write(ssl_, pending_plain_.data(),
                  static_cast<int>(std::min<size_t>(pending_plain_.size(), 1 << 20)));
    if (written <= 0) break;
    pending_plain_.erase(0, static_cast<size_t>(written));
  }
  closed_ = true;
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

Result<TlsContexts> make_tls_contexts(const std::optional<std::string>& upstream_ca) {
  TlsContexts contexts;
  contexts.server.reset(SSL_CTX_new(TLS_server_method()));
  contexts.upstream.reset(SSL_CTX_new(TLS_client_method()));
  if (!contexts.server || !contexts.upstream) return Error{openssl_error_text("SSL_CTX_new")};
  SSL_CTX_set_min_proto_version(contexts.server.get(), TLS1_2_VERSION);
  SSL_CTX_set_tlsext_servername_callback(contexts.server.get(), TlsChannel::on_server_name);
  SSL_CTX_set_alpn_select_cb(contexts.server.get(), select_http11, nullptr);
  // Resumption would skip the SNI callback's check; every handshake is a full one.
  SSL_CTX_set_session_cache_mode(contexts.server.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(contexts.server.get(), SSL_OP_NO_TICKET);

  SSL_CTX* upstream = contexts.upstream.get();
  SSL_CTX_set_min_proto_version(upstream, TLS1_2_VERSION);
  SSL_CTX_set_verify(upstream, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_set_default_verify_paths(upstream) != 1)
    return Error{openssl_error_text("cannot load the host's trust store")};
  if (upstream_ca && SSL_CTX_load_verify_locations(upstream, upstream_ca->c_str(), nullptr) != 1)
    return Error{openssl_error_text("network upstream_ca " + *upstream_ca)};
  if (SSL_CTX_set_alpn_protos(upstream, kAlpnHttp11, sizeof kAlpnHttp11) != 0)
    return Error{openssl_error_text("ALPN")};
  contexts.sessions->attach(upstream);
  return contexts;
}

Result<TlsContexts::ContextPtr> make_mtls_context(const std::string& cert, const std::string& key,
                                                  const std::string& ca,
                                                  UpstreamSessions& sessions) {
  TlsContexts::ContextPtr context(SSL_CTX_new(TLS_client_method()));
  if (!context) return Error{openssl_error_text("SSL_CTX_new")};
  SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(context.get(), ca.c_str(), nullptr) != 1)
    return Error{openssl_error_text("mtls ca " + ca)};
  if (SSL_CTX_use_certificate_chain_file(context.get(), cert.c_str()) != 1)
    return Error{openssl_error_text("mtls cert " + cert)};
  if (SSL_CTX_use_PrivateKey_file(context.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
    return Error{openssl_error_text("mtls key " + key)};
  if (SSL_CTX_check_private_key(context.get()) != 1)
    return Error{openssl_error_text("mtls key " + key + " does not match " + cert)};
  sessions.attach(context.get());
  return context;
}

}  // namespace airlock::intercept
