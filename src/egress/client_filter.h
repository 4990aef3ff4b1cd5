// What the proxy checks in the client's own bytes once a destination is allowed (THREATS.md
// bypass 1): the TLS SNI or HTTP Host must name the destination that was allowed, on every
// request of a keep-alive connection; absolute-form requests through the HTTP proxy are
// rewritten for the origin (Proxy-* headers never leave). Anything else is relayed opaque.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "egress/stream_relay.h"
#include "wire/http_request_stream.h"

namespace airlock::egress {

// What the client's first bytes turned out to be, for the audit event.
struct FirstBytes {
  std::string protocol = "none";   // "tls", "http", "opaque" or "none"
  std::optional<std::string> sni;  // normalised
  std::optional<std::string> http_host;
};

// Sees every complete request head the filter lets through, and may rewrite or refuse it: the
// credential checks (substitution on intercepted connections, misuse anywhere else).
class RequestHeadHook {
 public:
  struct Refusal {
    int http_status = 403;
    std::string reason;
  };
  virtual ~RequestHeadHook() = default;
  virtual std::optional<Refusal> on_head(HttpRequestHead& head) = 0;
};

class DestinationFilter final : public ClientFilter {
 public:
  enum class Kind {
    first_bytes,    // a connection's own bytes: TLS (SNI checked), HTTP (every Host) or opaque
    forward_proxy,  // absolute-form requests through the HTTP proxy, rewritten for the origin
    intercepted,    // plaintext inside a TLS connection airlock terminates: HTTP/1.1 only; a
                    // WebSocket upgrade request turns the rest of the stream opaque
  };
  // `names`: what the destination was allowed as (empty for an IP-literal destination: then no
  // name needs to agree). `port`: the destination port (an explicit Host port must equal it).
  // `hook`, when given (not owned), sees each head; heads are then withheld until complete and
  // sent as head_for_origin() re-serialises them, so what leaves is exactly what was checked.
  DestinationFilter(std::vector<std::string> names, uint16_t port, Kind kind,
                    RequestHeadHook* hook = nullptr);

  Verdict feed(std::string_view in, std::string& out) override;
  std::string denial() const override { return denial_; }
  std::string denial_answer() const override { return answer_; }
  bool finished() const override { return mode_ == Mode::done; }
  const FirstBytes& first_bytes() const { return first_; }
  bool upgraded() const { return upgraded_; }  // an upgrade request was let through
  // The client's bytes after the upgrade request, kept out of `out` for the caller to hold
  // until the origin agrees to switch protocols.
  std::string take_after_upgrade() { return std::move(after_upgrade_); }

 private:
  enum class Mode { classify, http, done };
  Verdict classify(std::string& out);
  Verdict feed_http(std::string_view in, std::string& out);
  bool name_agrees(const std::string& host) const;
  bool head_agrees(const HttpRequestHead& head);
  Verdict deny(std::string why);

  std::vector<std::string> names_;
  uint16_t port_;
  bool forward_proxy_;
  bool intercepted_;
  RequestHeadHook* hook_;
  bool upgraded_ = false;
  std::string after_upgrade_;
  std::string answer_;  // an HTTP answer to send before closing, when a hook refused
  Mode mode_ = Mode::classify;
  std::string pending_;  // classify: bytes seen so far
  HttpRequestStream stream_;
  FirstBytes first_;
  std::string denial_;
};

}  // namespace airlock::egress
