// A host exactly as a client sent it (SNI, Host header, CONNECT authority, SOCKS5 domain, DNS
// qname) turned into the one ASCII form every egress decision compares, or refused when two
// parsers could read it as two different hosts (THREATS.md bypass 2 and 6).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "egress/ip_address.h"

namespace airlock::egress {

struct NormalisedHost {
  std::string text;                  // ASCII, lower case, no trailing dot, no brackets; an IP
                                     // literal in canonical inet_ntop text
  std::optional<IpAddress> address;  // set when the host is an IP literal (inet_pton only)
};

// `raw` carries no port. Names go through UTS#46 (nontransitional, IDNA2008) to punycode; a
// bracketed IPv6 literal loses its brackets; a strict dotted quad is an IPv4 literal. Refused,
// with one line saying why: percent-encoding and zone ids, userinfo, ':' outside brackets,
// whitespace and control bytes, empty or over-long labels, characters other than [a-z0-9-]
// after conversion, a label starting or ending with '-', and every IPv4 spelling inet_aton
// reads but inet_pton does not (127.1, 0x7f.1, 0177.0.0.1, 2130706433, 0).
Result<NormalisedHost> normalise_host(std::string_view raw);

}  // namespace airlock::egress
