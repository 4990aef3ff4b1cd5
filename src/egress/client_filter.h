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

#include "wire/http_request_stream.h"
#include "egress/stream_relay.h"

namespace airlock::egress {

// What the client's first bytes turned out to be, for the audit event.
struct FirstBytes {
  std::string protocol = "none";   // "tls", "http", "opaque" or "none"
  std::optional<std::string> sni;  // normalised
  std::optional<std::string> http_host;
};

class DestinationFilter final : public ClientFilter {
 public:
  // `names`: what the destination was allowed as (empty for an IP-literal destination: then no
  // name needs to agree). `port`: the destination port (an explicit Host port must equal it).
  // `forward_proxy`: absolute-form requests to rewrite for the origin (the HTTP proxy path).
  DestinationFilter(std::vector<std::string> names, uint16_t port, bool forward_proxy);

  Verdict feed(std::string_view in, std::string& out) override;
  std::string denial() const override { return denial_; }
  bool finished() const override { return mode_ == Mode::done; }
  const FirstBytes& first_bytes() const { return first_; }

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
  Mode mode_ = Mode::classify;
  std::string pending_;  // classify: bytes seen so far
  HttpRequestStream stream_;
  FirstBytes first_;
  std::string denial_;
};

}  // namespace airlock::egress
