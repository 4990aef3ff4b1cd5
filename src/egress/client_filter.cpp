#include "egress/client_filter.h"

#include <algorithm>
#include <cctype>

#include "egress/host_name.h"
#include "egress/http_answer.h"
#include "wire/http_request.h"
#include "wire/tls_client_hello.h"

namespace airlock::egress {
namespace {

constexpr size_t kMaxClassifyBytes = 16384 + 5;  // one full TLS record, or a request line

// "GET /x HTTP/1.1": a method, a space, and "HTTP/" somewhere on the first line. Such bytes are
// held to HTTP's rules from then on, so a near-miss cannot pass as opaque. Bytes that start with
// CR or LF are HTTP too: servers skip empty lines before a request (RFC 9112 section 2.2), and
// the strict parser refuses them, so an empty line cannot hide a request for another host.
// Methods are upper case (RFC 9110 section 9.1; nginx and node accept nothing else): only those
// bytes are worth waiting for. A lower-case first line is examined when it arrives whole.
enum class Looks { http, not_http, unsure };
Looks looks_like_http(std::string_view bytes) {
  if (!bytes.empty() && (bytes[0] == '\r' || bytes[0] == '\n')) return Looks::http;
  const size_t line_end = bytes.find('\n');
  const std::string_view line = bytes.substr(0, line_end);
  size_t i = 0;
  while (i < line.size() && i < 24 && is_http_token(line.substr(i, 1))) ++i;
  const bool upper = i > 0 && std::all_of(line.begin(), line.begin() + static_cast<long>(i),
                                          [](unsigned char c) { return std::isupper(c); });
  if (i == bytes.size()) return upper && i < 24 ? Looks::unsure : Looks::not_http;
  if (i == 0 || i == line.size() || line[i] != ' ') return Looks::not_http;
  if (line.find("HTTP/") != std::string_view::npos) return Looks::http;
  if (line_end != std::string_view::npos || !upper) return Looks::not_http;
  return bytes.size() < 8192 ? Looks::unsure : Looks::http;
}

}  // namespace

DestinationFilter::DestinationFilter(std::vector<std::string> names, uint16_t port, Kind kind,
                                     RequestHeadHook* hook)
    : names_(std::move(names)),
      port_(port),
      forward_proxy_(kind == Kind::forward_proxy),
      intercepted_(kind == Kind::intercepted),
      hook_(hook) {
  if (kind != Kind::first_bytes) {
    mode_ = Mode::http;
    first_.protocol = "http";
  }
}

ClientFilter::Verdict DestinationFilter::deny(std::string why) {
  denial_ = std::move(why);
  return Verdict::deny;
}

bool DestinationFilter::name_agrees(const std::string& host) const {
  if (names_.empty()) return true;  // an IP-literal destination: no name to agree with
  return std::find(names_.begin(), names_.end(), host) != names_.end();
}

ClientFilter::Verdict DestinationFilter::feed(std::string_view in, std::string& out) {
  switch (mode_) {
    case Mode::classify:
      pending_.append(in);
      return classify(out);
    case Mode::http:
      return feed_http(in, out);
    case Mode::done:
      out.append(in);
      return Verdict::pass_through;
  }
  return Verdict::deny;
}

ClientFilter::Verdict DestinationFilter::classify(std::string& out) {
  const auto* data = reinterpret_cast<const uint8_t*>(pending_.data());
  if (!pending_.empty() && data[0] == 0x16) {
    ClientHelloParse hello = parse_client_hello(std::span<const uint8_t>(data, pending_.size()));
    if (hello.status == ParseStatus::need_more) {
      if (pending_.size() > 65536 + 64) return deny("TLS ClientHello too large");
      return Verdict::forward;  // nothing forwarded yet
    }
    first_.protocol = "tls";
    if (hello.status == ParseStatus::invalid)
      return deny("malformed TLS ClientHello: " + hello.problem);
    if (hello.server_name) {
      Result<NormalisedHost> sni = normalise_host(*hello.server_name);
      if (!sni) return deny("TLS SNI is not a host name: " + sni.error().message);
      first_.sni = sni->text;
      if (!name_agrees(sni->text)) {
        return deny("TLS SNI " + sni->text + " is not the destination that was allowed");
      }
    }
    mode_ = Mode::done;
    out.append(pending_);
    pending_.clear();
    return Verdict::pass_through;
  }
  switch (looks_like_http(pending_)) {
    case Looks::unsure:
      if (pending_.size() > kMaxClassifyBytes) return deny("request line too long");
      return Verdict::forward;
    case Looks::http: {
      mode_ = Mode::http;
      first_.protocol = "http";
      std::string bytes;
      bytes.swap(pending_);
      return feed_http(bytes, out);
    }
    case Looks::not_http:
      break;
  }
  first_.protocol = "opaque";
  mode_ = Mode::done;
  out.append(pending_);
  pending_.clear();
  return Verdict::pass_through;
}

bool DestinationFilter::head_agrees(const HttpRequestHead& head) {
  if (head.method == "CONNECT") {
    denial_ = "CONNECT inside a connection that was allowed for one destination";
    return false;
  }
  std::string authority = head.form == RequestTargetForm::absolute
                              ? head.target_host + ":" + std::to_string(head.target_port)
                              : head.host_header;
  bool ok = false;
  auto [host, port] = split_host_port(authority, port_, &ok);
  if (!ok) {
    denial_ = "HTTP Host '" + authority + "' is not host[:port]";
    return false;
  }
  Result<NormalisedHost> normalised = normalise_host(host);
  if (!normalised) {
    denial_ = "HTTP Host is not a host name: " + normalised.error().message;
    return false;
  }
  if (!first_.http_host) first_.http_host = normalised->text;
  if (forward_proxy_ && head.form != RequestTargetForm::absolute) {
    denial_ = "a request through the HTTP proxy must use an absolute URL (http://host/...)";
    return false;
  }
  if (!name_agrees(normalised->text) || port != port_) {
    denial_ = "HTTP request for " + normalised->text + ":" + std::to_string(port) +
              " on a connection allowed for another destination";
    return false;
  }
  return true;
}

ClientFilter::Verdict DestinationFilter::feed_http(std::string_view in, std::string& out) {
  HttpRequestStream::Fed fed = stream_.feed(in);
  // An upgrade request ends HTTP on an intercepted connection: what follows it is the new
  // protocol's, relayed as it is (the relay lets it through only after the origin's 101).
  // (The stream may call those bytes invalid HTTP: they are not HTTP.)
  size_t heads = fed.heads.size();
  bool upgrade = false;
  for (size_t i = 0; intercepted_ && i < fed.heads.size() && !upgrade; ++i) {
    upgrade = fed.heads[i].find("upgrade") != nullptr;
    if (upgrade) heads = i + 1;
  }
  if (fed.invalid && !upgrade) return deny("malformed HTTP request: " + fed.problem);
  for (size_t i = 0; i < heads; ++i) {
    if (!head_agrees(fed.heads[i])) return Verdict::deny;
  }
  if (!forward_proxy_ && !intercepted_ && hook_ == nullptr) {
    // All or nothing: a chunk completing a head that does not agree is never forwarded, so the
    // origin never holds a complete request for another host.
    out.append(in);
    return Verdict::forward;
  }
  // Heads are withheld until complete, then sent as checked (origin form); body bytes pass.
  std::string rewritten;
  size_t position = 0;
  for (size_t i = 0; i < heads; ++i) {
    rewritten.append(in.substr(position, fed.head_begins[i] - position));
    if (hook_ != nullptr) {
      if (std::optional<RequestHeadHook::Refusal> refusal = hook_->on_head(fed.heads[i])) {
        answer_ = http_answer(refusal->http_status, refusal->reason);
        return deny(refusal->reason);
      }
    }
    rewritten.append(head_for_origin(fed.heads[i], intercepted_));
    position = fed.head_ends[i];
  }
  if (upgrade) {
    upgraded_ = true;
    mode_ = Mode::done;
    after_upgrade_ = std::string(in.substr(position));
    out += rewritten;
    return Verdict::pass_through;
  }
  if (fed.open_head_begin) {
    // The unfinished head stays in the stream's own buffer; it is sent rewritten once whole.
    rewritten.append(in.substr(position, *fed.open_head_begin - position));
  } else {
    rewritten.append(in.substr(position));
  }
  out += rewritten;
  return Verdict::forward;
}

}  // namespace airlock::egress
