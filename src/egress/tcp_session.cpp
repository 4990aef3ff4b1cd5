#include "egress/tcp_session.h"

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/errno_text.h"
#include "credentials/credential_vault.h"
#include "egress/address_class.h"
#include "egress/host_name.h"
#include "egress/http_answer.h"
#include "intercept/credential_hook.h"
#include "intercept/intercept_relay.h"
#include "intercept/interception.h"
#include "wire/http_request.h"
#include "wire/socks5_message.h"

namespace airlock::egress {
namespace {

constexpr auto kIntakeTimeout = std::chrono::seconds(10);
constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kIdleTimeout = std::chrono::seconds(900);
// A transparent client that says nothing this long after connecting is taken to speak second
// (ssh, smtp, a database's greeting): the upstream is dialled and its first bytes checked later.
constexpr auto kServerFirstWait = std::chrono::milliseconds(250);
constexpr size_t kMaxIntake = 16384 + 1024;

std::string bytes_of(const std::array<uint8_t, 10>& reply) {
  return std::string(reinterpret_cast<const char*>(reply.data()), reply.size());
}

std::optional<sockaddr_storage> original_destination(int fd, sa_family_t family) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  int level = family == AF_INET6 ? SOL_IPV6 : SOL_IP;
  static_assert(IP6T_SO_ORIGINAL_DST == SO_ORIGINAL_DST, "one option number for both families");
  if (::getsockopt(fd, level, SO_ORIGINAL_DST, &address, &length) != 0) return std::nullopt;
  return address;
}

}  // namespace

TcpSession::TcpSession(ProxyContext& context, uint64_t id, Via via, UniqueFd client,
                       const sockaddr_storage& peer)
    : context_(context),
      id_(id),
      via_(via),
      client_(std::move(client)),
      peer_(peer),
      started_(std::chrono::steady_clock::now()) {}

TcpSession::~TcpSession() {
  if (timer_ != 0) context_.loop.cancel_timer(timer_);
  relay_.reset();  // forgets its sockets before they close
  intercept_relay_.reset();
  if (client_.valid()) context_.loop.forget(client_.get());
  if (upstream_.valid()) context_.loop.forget(upstream_.get());
}

std::string TcpSession::via_text() const {
  switch (via_) {
    case Via::transparent:
      return endpoint_ != nullptr ? "endpoint" : "transparent";
    case Via::http_proxy:
      return forward_proxy_ ? "http_forward" : "http_connect";
    case Via::socks5:
      return "socks5";
  }
  return "?";
}

nlohmann::json TcpSession::describe() const {
  nlohmann::json fields = {{"connection", id_},
                           {"via", via_text()},
                           {"host", host_},
                           {"port", port_},
                           {"client", endpoint_text(peer_)}};
  if (!resolved_.empty()) {
    nlohmann::json resolved = nlohmann::json::array();
    for (const IpAddress& address : resolved_) resolved.push_back(address.to_string());
    fields["resolved"] = resolved;
  }
  if (dialled_) fields["address"] = endpoint_text(*dialled_);
  if (intercept_relay_) fields["intercepted"] = true;
  if (filter_ != nullptr) {
    const FirstBytes& first = filter_->first_bytes();
    fields["protocol"] = first.protocol;
    if (first.sni) fields["sni"] = *first.sni;
    if (first.http_host) fields["http_host"] = *first.http_host;
  }
  return fields;
}

void TcpSession::start() {
  timer_ = context_.loop.add_timer(std::chrono::steady_clock::now() + kIntakeTimeout, [this] {
    timer_ = 0;
    if (stage_ == Stage::intake) deny("no complete request within 10 s", "", 408);
  });
  if (via_ == Via::transparent) {
    decide_transparent();
    return;
  }
  if (!context_.loop.watch(client_.get(), EPOLLIN, this)) finish("cannot watch the client");
}

void TcpSession::refuse_over_limit(uint32_t limit) {
  over_limit_ = limit;
  if (via_ == Via::transparent) {
    deny_over_limit();
    return;
  }
  start();  // read the request first, so the refusal is an answer the client understands
}

void TcpSession::deny_over_limit() {
  deny(fmt::format("the sandbox already has {} proxied connections (network max_connections)",
                   over_limit_),
       "", 503, socks5_reply::general_failure);
}

void TcpSession::on_ready(int fd, uint32_t events) {
  if (stage_ == Stage::intake && fd == client_.get()) {
    read_intake();
  } else if (stage_ == Stage::first_bytes && fd == client_.get()) {
    read_first_bytes();
  } else if (stage_ == Stage::recording && fd == client_.get()) {
    read_recording();
  } else if (stage_ == Stage::connecting && fd == upstream_.get()) {
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(upstream_.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error == 0 && (events & EPOLLOUT) != 0) {
      on_connected();
    } else {
      context_.loop.forget(upstream_.get());
      upstream_.reset();
      fail_upstream(errno_text(error != 0 ? error : ECONNREFUSED));
    }
  } else if (fd == client_.get() && (events & (EPOLLHUP | EPOLLERR)) != 0) {
    finish("client closed during set-up");
  }
}

// ---- intake ----------------------------------------------------------------------------------

void TcpSession::read_intake() {
  char chunk[4096];
  ssize_t n = ::recv(client_.get(), chunk, sizeof chunk, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    finish("client closed before its request");
    return;
  }
  if (n < 0) return;
  intake_.append(chunk, static_cast<size_t>(n));
  if (via_ == Via::http_proxy) {
    parse_http_intake();
  } else {
    parse_socks_intake();
  }
}

void TcpSession::parse_http_intake() {
  HttpRequestParse parsed = parse_http_request_head(intake_);
  if (parsed.status == ParseStatus::need_more) {
    if (intake_.size() > kMaxIntake) deny("request head too large", "", 431);
    return;
  }
  if (parsed.status == ParseStatus::invalid) {
    // Audit what the request line said it was, as far as it can be read.
    forward_proxy_ = intake_.rfind("CONNECT ", 0) != 0;
    const std::string_view line =
        std::string_view(intake_).substr(0, intake_.find_first_of("\r\n"));
    const size_t target = line.find(' ');
    if (target != std::string_view::npos) {
      std::string_view authority = line.substr(target + 1);
      authority = authority.substr(0, authority.find(' '));
      if (forward_proxy_ && authority.rfind("http://", 0) == 0) {
        authority.remove_prefix(7);
        authority = authority.substr(0, authority.find('/'));
      }
      bool ok = false;
      auto [host, port] = split_host_port(authority, forward_proxy_ ? 80 : 0, &ok);
      if (ok) {
        host_ = host;
        port_ = port;
      }
    }
    deny("malformed HTTP request: " + parsed.problem, "", parsed.http_status);
    return;
  }
  const HttpRequestHead& head = parsed.head;
  intake_used_ = head.head_length;
  if (head.method == "CONNECT") {
    decide_host(head.target_host, head.target_port);
  } else if (head.form == RequestTargetForm::absolute) {
    forward_proxy_ = true;
    intake_used_ = 0;  // the filter rewrites this head (and every later one) for the origin
    decide_host(head.target_host, head.target_port);
  } else {
    deny("not a proxy request: use CONNECT host:port or an absolute http:// URL", "", 400);
  }
}

void TcpSession::parse_socks_intake() {
  auto bytes =
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(intake_.data()), intake_.size());
  if (!socks_greeted_) {
    Socks5GreetingParse greeting = parse_socks5_greeting(bytes);
    if (greeting.status == ParseStatus::need_more) return;
    if (greeting.status == ParseStatus::invalid || !greeting.greeting.offers_no_auth) {
      answer_client(std::string(reinterpret_cast<const char*>(kSocks5NoAcceptableMethod.data()),
                                kSocks5NoAcceptableMethod.size()));
      deny(greeting.status == ParseStatus::invalid
               ? "malformed SOCKS5 greeting: " + greeting.problem
               : "SOCKS5 client offers no method airlock "
                 "accepts (only 'no authentication')",
           "", 400, 0xff);
      return;
    }
    answer_client(std::string(reinterpret_cast<const char*>(kSocks5ChooseNoAuth.data()),
                              kSocks5ChooseNoAuth.size()));
    socks_greeted_ = true;
    intake_.erase(0, greeting.greeting.length);
    if (intake_.empty()) return;
    bytes =
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(intake_.data()), intake_.size());
  }
  Socks5RequestParse request = parse_socks5_request(bytes);
  if (request.status == ParseStatus::need_more) return;
  if (request.status == ParseStatus::invalid) {
    deny("malformed SOCKS5 request: " + request.problem, "", 400, request.reply_code);
    return;
  }
  if (request.request.command != 1) {
    deny("SOCKS5 command " + std::to_string(request.request.command) +
             " is not supported (only CONNECT)",
         "", 400, socks5_reply::command_not_supported);
    return;
  }
  intake_used_ = request.request.length;
  decide_host(
      request.request.address ? request.request.address->to_string() : request.request.domain,
      request.request.port);
}

void TcpSession::decide_transparent() {
  std::optional<sockaddr_storage> original = original_destination(client_.get(), peer_.ss_family);
  std::optional<IpAddress> address =
      original ? IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&*original), sizeof *original)
               : std::nullopt;
  if (!address) {
    deny("no original destination (a direct connection to airlock's listener)");
    return;
  }
  port_ = port_of(*original);
  host_ = address->to_string();
  if (classify_address(*address).kind == AddressClass::loopback && context_.credentials &&
      (endpoint_ = context_.credentials->endpoint_at(port_)) != nullptr) {
    // A local endpoint: plain HTTP here, verified TLS to the credential's host from the proxy.
    endpoint_port_ = port_;
    decide_host(endpoint_->hosts.front(), 443);
    return;
  }
  if (classify_address(*address).kind == AddressClass::loopback) {
    // Only localhost:PORT rules redirect loopback here; they lead to the host's loopback.
    host_ = "localhost";
    Decision decision = context_.policy.decide_name("localhost", port_);
    if (!decision.allowed) {
      deny("the sandbox's loopback port " + std::to_string(port_) + " is not carried to the host",
           decision.rule);
      return;
    }
    // Exactly the host's 127.0.0.1 or ::1, whichever loopback address the agent named.
    candidates_ = {*IpAddress::parse(address->is_v4() ? "127.0.0.1" : "::1")};
    allow(decision.reason, decision.rule);
    dial_next();
    return;
  }
  // An address the DNS stub gave out is decided by the name(s) it was given for.
  std::string first_reason;
  std::string first_rule;
  for (const std::string& name : context_.dns_map.names_for(*address)) {
    Decision decision = context_.policy.decide_name(name, port_);
    if (decision.allowed) {
      if (names_.empty()) first_rule = decision.rule;
      names_.push_back(name);
    } else if (first_reason.empty()) {
      first_reason = decision.reason;
      if (first_rule.empty()) first_rule = decision.rule;
      host_ = name;
    }
  }
  if (!names_.empty()) {
    host_ = names_.front();
    resolved_ = {*address};
    FilteredAddresses filtered = context_.policy.filter_resolved({*address}, port_);
    if (filtered.allowed.empty()) {
      deny(filtered.refused.front().reason, first_rule);
      return;
    }
    candidates_ = {*address};
    allow("allowed", first_rule);
    await_first_bytes();
    return;
  }
  if (!first_reason.empty()) {
    record_then_deny(first_reason, first_rule);
    return;
  }
  literal_ = address;
  Decision decision = context_.policy.decide_literal(*address, port_);
  if (!decision.allowed) {
    record_then_deny(decision.reason + " (no DNS answer from airlock gave this address)",
                     decision.rule);
    return;
  }
  candidates_ = {*address};
  allow(decision.reason, decision.rule);
  await_first_bytes();
}

// ---- decision ------------------------------------------------------------------------------

void TcpSession::decide_host(const std::string& raw_host, uint16_t port) {
  port_ = port;
  host_ = raw_host;
  if (over_limit_ != 0) {
    deny_over_limit();
    return;
  }
  Result<NormalisedHost> normalised = normalise_host(raw_host);
  if (!normalised) {
    deny("invalid host: " + normalised.error().message);
    return;
  }
  host_ = normalised->text;
  if (normalised->address) {
    literal_ = normalised->address;
    Decision decision = context_.policy.decide_literal(*literal_, port_);
    if (!decision.allowed) {
      record_then_deny(decision.reason, decision.rule);
      return;
    }
    candidates_ = {*literal_};
    allow(decision.reason, decision.rule);
    dial_next();
    return;
  }
  Decision decision = context_.policy.decide_name(host_, port_);
  if (!decision.allowed) {
    record_then_deny(decision.reason, decision.rule);
    return;
  }
  names_ = {host_};
  rule_ = decision.rule;
  if (host_ == "localhost") {
    // localhost:PORT means the host's loopback; never a DNS question.
    candidates_ = {*IpAddress::parse("127.0.0.1")};
    allow(decision.reason, decision.rule);
    dial_next();
    return;
  }
  resolve_and_dial();
}

void TcpSession::resolve_and_dial() {
  stage_ = Stage::resolving;
  if (client_.valid()) context_.loop.modify(client_.get(), 0);
  const uint64_t id = id_;
  ProxyContext& context = context_;
  context_.resolver.resolve(host_, AF_UNSPEC, [id, &context, this](const Resolution& resolution) {
    if (!context.session_alive(id)) return;  // the client went away meanwhile
    on_resolved(resolution);
  });
}

void TcpSession::on_resolved(const Resolution& resolution) {
  if (stage_ != Stage::resolving) return;
  if (!resolution.error.empty()) {
    deny("cannot resolve " + host_ + ": " + resolution.error, rule_, 502,
         socks5_reply::host_unreachable);
    return;
  }
  if (resolution.addresses.empty()) {
    deny(host_ + " does not exist (NXDOMAIN)", rule_, 502, socks5_reply::host_unreachable);
    return;
  }
  resolved_ = resolution.addresses;
  FilteredAddresses filtered = context_.policy.filter_resolved(resolution.addresses, port_);
  if (filtered.allowed.empty()) {
    deny(filtered.refused.front().reason, rule_);
    return;
  }
  // IPv4 first: the host may have no IPv6 route; each candidate was checked above.
  std::stable_partition(filtered.allowed.begin(), filtered.allowed.end(),
                        [](const IpAddress& address) { return address.is_v4(); });
  candidates_ = filtered.allowed;
  allow("allowed", rule_);
  dial_next();
}

// ---- observe: record, then refuse -------------------------------------------------------------

void TcpSession::record_then_deny(const std::string& reason, const std::string& rule) {
  // An absolute-form request already said everything (its URL); a closed client says nothing.
  if (context_.policy.observe() != ObserveMode::deny || forward_proxy_ || !client_.valid()) {
    deny(reason, rule);
    return;
  }
  recorded_denial_ = RecordedDenial{reason, rule};
  // A proxy client sends its ClientHello or request only into an open tunnel. Nothing is dialled:
  // the tunnel ends in airlock, and closes once the bytes are read.
  if (via_ == Via::http_proxy) {
    answer_client("HTTP/1.1 200 Connection established\r\n\r\n");
    tunnel_pretended_ = true;
  } else if (via_ == Via::socks5) {
    answer_client(bytes_of(socks5_reply_bytes(socks5_reply::succeeded)));
    tunnel_pretended_ = true;
  }
  stage_ = Stage::recording;
  // No names: nothing is refused for disagreeing, the filter only reads what the bytes are.
  pending_filter_ = std::make_unique<DestinationFilter>(std::vector<std::string>{}, port_,
                                                        DestinationFilter::Kind::first_bytes);
  filter_ = pending_filter_.get();
  const std::string early = via_ == Via::transparent ? std::string() : intake_.substr(intake_used_);
  if (!early.empty() && record_bytes(early)) {
    deny_recorded();
    return;
  }
  if (!context_.loop.watch(client_.get(), EPOLLIN, this)) {
    deny_recorded();
    return;
  }
  if (timer_ != 0) context_.loop.cancel_timer(timer_);
  // As for an allowed connection: a client silent this long speaks second, and says nothing more.
  timer_ = context_.loop.add_timer(std::chrono::steady_clock::now() + kServerFirstWait, [this] {
    timer_ = 0;
    if (stage_ != Stage::recording) return;
    if (filter_->first_bytes().protocol == "none" && checked_.empty()) {
      deny_recorded();
      return;
    }
    timer_ = context_.loop.add_timer(std::chrono::steady_clock::now() + kIntakeTimeout, [this] {
      timer_ = 0;
      if (stage_ == Stage::recording) deny_recorded();
    });
  });
}

void TcpSession::read_recording() {
  char chunk[16384];
  ssize_t n = ::recv(client_.get(), chunk, sizeof chunk, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0 || record_bytes(std::string_view(chunk, static_cast<size_t>(n)))) deny_recorded();
}

bool TcpSession::record_bytes(std::string_view bytes) {
  // The bytes are read, never sent anywhere: `out` is only how the filter says it has decided.
  std::string out;
  ClientFilter::Verdict verdict = pending_filter_->feed(bytes, out);
  checked_ += out;
  return verdict != ClientFilter::Verdict::forward || !out.empty();
}

void TcpSession::deny_recorded() {
  if (timer_ != 0) {
    context_.loop.cancel_timer(timer_);
    timer_ = 0;
  }
  const RecordedDenial denial = *recorded_denial_;
  deny(denial.reason, denial.rule);
}

// ---- dial and relay ------------------------------------------------------------------------

// Transparent connections: the client's first bytes (TLS ClientHello, HTTP request) are checked
// against the allowed name before anything is dialled, so a fronted SNI never leaves the host.
void TcpSession::await_first_bytes() {
  stage_ = Stage::first_bytes;
  pending_filter_ =
      std::make_unique<DestinationFilter>(literal_ ? std::vector<std::string>{} : names_, port_,
                                          DestinationFilter::Kind::first_bytes, misuse_hook());
  filter_ = pending_filter_.get();
  if (!context_.loop.watch(client_.get(), EPOLLIN, this)) {
    finish("cannot watch the client");
    return;
  }
  if (timer_ != 0) context_.loop.cancel_timer(timer_);
  timer_ = context_.loop.add_timer(std::chrono::steady_clock::now() + kServerFirstWait, [this] {
    timer_ = 0;
    if (stage_ != Stage::first_bytes) return;
    if (intake_.empty()) {
      dial_next();  // a server-speaks-first protocol: its client's bytes are checked in the relay
      return;
    }
    timer_ = context_.loop.add_timer(std::chrono::steady_clock::now() + kIntakeTimeout, [this] {
      timer_ = 0;
      if (stage_ == Stage::first_bytes) deny("the client's first bytes stayed incomplete for 10 s");
    });
  });
}

void TcpSession::read_first_bytes() {
  char chunk[16384];
  ssize_t n = ::recv(client_.get(), chunk, sizeof chunk, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    finish("client closed before sending anything");
    return;
  }
  intake_.append(chunk, static_cast<size_t>(n));
  ClientFilter::Verdict verdict =
      pending_filter_->feed(std::string_view(chunk, static_cast<size_t>(n)), checked_);
  if (verdict == ClientFilter::Verdict::deny) {
    // A refused request the client can read (an HTTP 403 from a credential check) is answered,
    // and the connection then closes without a reset, which could discard the answer.
    const std::string answer = pending_filter_->denial_answer();
    if (!answer.empty()) {
      answer_client(answer);
      answered_ = true;
    }
    deny(pending_filter_->denial(), rule_);
    return;
  }
  if (verdict == ClientFilter::Verdict::pass_through || !checked_.empty()) {
    if (timer_ != 0) {
      context_.loop.cancel_timer(timer_);
      timer_ = 0;
    }
    dial_next();
  }
  // Otherwise the bytes so far decide nothing yet (half a ClientHello): keep reading.
}

void TcpSession::dial_next() {
  stage_ = Stage::connecting;
  if (client_.valid()) context_.loop.modify(client_.get(), 0);
  while (next_candidate_ < candidates_.size()) {
    const IpAddress& address = candidates_[next_candidate_++];
    socklen_t length = 0;
    sockaddr_storage target = address.to_sockaddr(port_, &length);
    UniqueFd fd(::socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) continue;
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    dialled_ = target;
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&target), length) != 0 &&
        errno != EINPROGRESS) {
      continue;
    }
    upstream_ = std::move(fd);
    if (!context_.loop.watch(upstream_.get(), EPOLLOUT, this)) {
      fail_upstream("cannot watch the upstream socket");
      return;
    }
    if (timer_ != 0) context_.loop.cancel_timer(timer_);
    timer_ = context_.loop.add_timer(std::chrono::steady_clock::now() + kConnectTimeout, [this] {
      timer_ = 0;
      if (stage_ != Stage::connecting) return;
      context_.loop.forget(upstream_.get());
      upstream_.reset();
      fail_upstream("connect timed out after 10 s");
    });
    return;
  }
  fail_upstream("no address could be dialled");
}

void TcpSession::fail_upstream(const std::string& why) {
  if (next_candidate_ < candidates_.size()) {
    dial_next();
    return;
  }
  std::string line = "upstream " + (dialled_ ? endpoint_text(*dialled_) : host_) + ": " + why;
  if (via_ == Via::http_proxy) {
    answer_client(http_answer(why.find("timed out") != std::string::npos ? 504 : 502, line));
  } else if (via_ == Via::socks5) {
    answer_client(bytes_of(socks5_reply_bytes(socks5_reply::connection_refused)));
  }
  close_client(via_ == Via::transparent);
  finish(line);
}

void TcpSession::on_connected() {
  if (timer_ != 0) {
    context_.loop.cancel_timer(timer_);
    timer_ = 0;
  }
  stage_ = Stage::relaying;  // the relay takes both sockets over, still registered
  std::string to_client;
  if (via_ == Via::http_proxy && !forward_proxy_) {
    to_client = "HTTP/1.1 200 Connection established\r\n\r\n";
  } else if (via_ == Via::socks5) {
    to_client = bytes_of(socks5_reply_bytes(socks5_reply::succeeded));
  }
  // The name the client asked for in its SNI, when the address was given out for several.
  if (filter_ != nullptr && filter_->first_bytes().sni &&
      std::find(names_.begin(), names_.end(), *filter_->first_bytes().sni) != names_.end()) {
    host_ = *filter_->first_bytes().sni;
  }
  if (should_intercept()) {
    start_interception(std::move(to_client));
    return;
  }
  if (!pending_filter_) {
    pending_filter_ =
        std::make_unique<DestinationFilter>(literal_ ? std::vector<std::string>{} : names_, port_,
                                            forward_proxy_ ? DestinationFilter::Kind::forward_proxy
                                                           : DestinationFilter::Kind::first_bytes,
                                            misuse_hook());
    filter_ = pending_filter_.get();
  }
  // Transparent: intake_ already went through the filter (into checked_); otherwise the bytes
  // after the request itself (CONNECT head, SOCKS request) still have to.
  std::string unchecked = via_ == Via::transparent ? std::string() : intake_.substr(intake_used_);
  relay_ = std::make_unique<StreamRelay>(
      context_.loop, context_.pipes, std::move(client_), std::move(upstream_), kIdleTimeout,
      std::move(pending_filter_), [this](const RelayTotals& totals) { on_relay_done(totals); });
  relay_->start(std::move(to_client), std::move(checked_), std::move(unchecked));
}

bool TcpSession::should_intercept() const {
  if (context_.interception == nullptr || context_.credentials == nullptr) return false;
  if (endpoint_ != nullptr) return true;
  if (literal_ || forward_proxy_) return false;
  if (context_.credentials->mtls_for(host_, port_) != nullptr) return true;
  if (port_ != 443 || !context_.credentials->binds(host_)) return false;
  // Transparent: only a TLS client is intercepted; plain HTTP to port 443 stays checked as such.
  return via_ != Via::transparent ||
         (filter_ != nullptr && filter_->first_bytes().protocol == "tls");
}

RequestHeadHook* TcpSession::misuse_hook() {
  if (context_.credentials == nullptr || context_.credentials->header_credentials().empty())
    return nullptr;
  if (!hook_) {
    hook_ = std::make_unique<intercept::CredentialHook>(
        *context_.credentials, context_.audit, host_, false, "",
        [this] { return client_process(context_, peer_); });
  }
  return hook_.get();
}

void TcpSession::start_interception(std::string to_client) {
  intercept::Interception& tls = *context_.interception;
  credentials::CredentialVault& vault = *context_.credentials;
  const credentials::MtlsCredential* mtls =
      endpoint_ != nullptr ? nullptr : vault.mtls_for(host_, port_);
  // Bytes the client sent before the relay: the whole intake when transparent (the ClientHello,
  // already checked), else what followed the CONNECT or SOCKS request.
  std::string from_client = via_ == Via::transparent ? intake_ : intake_.substr(intake_used_);
  intercept::InterceptRelay::Sides sides;
  Result<SSL_CTX*> upstream_context = tls.contexts.upstream.get();
  if (mtls != nullptr) upstream_context = tls.mtls_context(*mtls);
  if (!upstream_context) {
    fail_upstream(upstream_context.error().message);
    return;
  }
  Result<std::unique_ptr<intercept::TlsChannel>> upstream =
      intercept::TlsChannel::client(*upstream_context, host_);
  if (!upstream) {
    fail_upstream(upstream.error().message);
    return;
  }
  sides.upstream = std::move(upstream).value();
  if (endpoint_ != nullptr) {
    sides.client = std::make_unique<intercept::PlainChannel>();
  } else if (mtls != nullptr) {
    const std::string name = host_;
    sides.client = std::make_unique<intercept::FirstByteChannel>(
        [&tls, name]() -> Result<std::unique_ptr<intercept::Channel>> {
          Result<std::unique_ptr<intercept::TlsChannel>> server =
              intercept::TlsChannel::server(tls.contexts.server.get(), *tls.ca, {name}, name);
          if (!server) return server.error();
          return std::unique_ptr<intercept::Channel>(std::move(server).value());
        });
  } else {
    Result<std::unique_ptr<intercept::TlsChannel>> server =
        intercept::TlsChannel::server(tls.contexts.server.get(), *tls.ca, {host_}, host_);
    if (!server) {
      fail_upstream(server.error().message);
      return;
    }
    sides.client = std::move(server).value();
  }
  if (mtls == nullptr) {
    intercept_hook_ = std::make_unique<intercept::CredentialHook>(
        vault, context_.audit, host_, true, endpoint_ != nullptr ? host_ : "",
        [this] { return client_process(context_, peer_); });
    // At an endpoint the client names 127.0.0.1:PORT; the hook sends the credential's host.
    // Only the bound name: a leaf is never made, nor a request sent, for another name.
    sides.filter = std::make_unique<DestinationFilter>(
        endpoint_ != nullptr ? std::vector<std::string>{} : std::vector<std::string>{host_},
        endpoint_ != nullptr ? endpoint_port_ : port_, DestinationFilter::Kind::intercepted,
        intercept_hook_.get());
    sides.redactions = vault.redactions();
  }
  first_filter_ = std::move(pending_filter_);
  intercept_relay_ = std::make_unique<intercept::InterceptRelay>(
      context_.loop, std::move(client_), std::move(upstream_), kIdleTimeout, std::move(sides),
      [this](const RelayTotals& totals) { on_relay_done(totals); });
  filter_ = first_filter_ ? first_filter_.get() : intercept_relay_->filter();
  intercept_relay_->start(std::move(to_client), from_client);
}

const RelayTotals* TcpSession::relay_totals() const {
  if (relay_) return &relay_->totals();
  if (intercept_relay_) return &intercept_relay_->totals();
  return nullptr;
}

void TcpSession::on_relay_done(const RelayTotals& totals) {
  if (totals.denied_by_filter) {
    const ClientFilter* denying = intercept_relay_ ? intercept_relay_->filter() : filter_;
    nlohmann::json fields = describe();
    fields["decision"] = "deny";
    fields["reason"] = denying != nullptr ? denying->denial() : totals.ended_by;
    fields["rule"] = rule_;
    fields["process"] = client_process(context_, peer_);
    context_.audit.record("egress.decision", fields);
  }
  finish(totals.ended_by);
}

// ---- ends ----------------------------------------------------------------------------------

void TcpSession::allow(const std::string& reason, const std::string& rule) {
  decided_ = true;
  rule_ = rule;
  if (context_.counters != nullptr)
    context_.counters->allowed.fetch_add(1, std::memory_order_relaxed);
  if (!context_.audit.enabled()) return;  // building the event costs more than the decision
  nlohmann::json fields = describe();
  fields["decision"] = "allow";
  fields["reason"] = reason;
  fields["rule"] = rule;
  // observe learns which program needed each destination, allowed ones included.
  if (context_.policy.observe() != ObserveMode::off) {
    fields["process"] = client_process(context_, peer_);
  }
  context_.audit.record("egress.decision", fields);
}

void TcpSession::deny(const std::string& reason, const std::string& rule, int http_status,
                      uint8_t socks_code) {
  if (context_.counters != nullptr)
    context_.counters->denied.fetch_add(1, std::memory_order_relaxed);
  if (context_.audit.enabled()) {
    nlohmann::json fields = describe();
    fields["decision"] = "deny";
    fields["reason"] = reason;
    fields["rule"] = rule;
    fields["process"] = client_process(context_, peer_);  // before the socket closes
    if (recorded_denial_) fields["observed"] = true;
    context_.audit.record("egress.decision", fields);
  }
  if (tunnel_pretended_) {
    // The client believes it speaks to the origin: a proxy's answer now would be noise to it.
  } else if (via_ == Via::http_proxy) {
    answer_client(http_answer(http_status, reason));
  } else if (via_ == Via::socks5 && socks_code != 0xff) {
    answer_client(bytes_of(socks5_reply_bytes(socks_code)));
  }
  close_client((via_ == Via::transparent || tunnel_pretended_) && !answered_);
  stage_ = Stage::done;
  context_.release_session(id_);
}

void TcpSession::answer_client(const std::string& bytes) {
  if (!client_.valid()) return;
  // Small and the socket is fresh: one send fits the buffer; a client that does not read
  // simply loses the explanation, never the proxy's time.
  ssize_t ignored = ::send(client_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
}

void TcpSession::close_client(bool reset) {
  if (!client_.valid()) return;
  context_.loop.forget(client_.get());
  if (reset) {
    linger abortive{1, 0};
    ::setsockopt(client_.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  } else {
    ::shutdown(client_.get(), SHUT_WR);
  }
  client_.reset();
}

void TcpSession::finish(const std::string& ended_by) {
  if (stage_ == Stage::done) return;
  stage_ = Stage::done;
  if (decided_ && context_.counters != nullptr) {
    if (const RelayTotals* totals = relay_totals()) {
      context_.counters->bytes_up.fetch_add(totals->bytes_up, std::memory_order_relaxed);
      context_.counters->bytes_down.fetch_add(totals->bytes_down, std::memory_order_relaxed);
    }
  }
  if (decided_ && context_.audit.enabled()) {
    using namespace std::chrono;
    nlohmann::json fields = describe();
    fields["ended_by"] = ended_by;
    fields["rule"] = rule_;
    const RelayTotals* totals = relay_totals();
    fields["bytes_up"] = totals != nullptr ? totals->bytes_up : 0;
    fields["bytes_down"] = totals != nullptr ? totals->bytes_down : 0;
    fields["duration_ms"] = duration_cast<milliseconds>(steady_clock::now() - started_).count();
    context_.audit.record("egress.close", fields);
  }
  close_client(false);
  context_.release_session(id_);
}

void TcpSession::shut_down() {
  if (relay_) relay_->abort();
  if (intercept_relay_) intercept_relay_->abort();
  finish("proxy stopped");
}

}  // namespace airlock::egress
