// "host:port" allow/deny entries. Only syntax is decided here; matching lives in the egress code.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/policy.h"

namespace airlock::policy {

// Returns the parsed rule, or an explanation of what is wrong (without location).
struct NetworkRuleParse {
  std::optional<NetworkRule> rule;
  std::string problem;
};
NetworkRuleParse parse_network_rule(const std::string& text);

// A label inet_aton could read as a number: decimal, octal (leading 0) or hex (0x...). As the
// last label of a host it means an IPv4 spelling (127.1, 0x7f.1, 2130706433) that getaddrinfo
// would accept and inet_pton would not: rules and client hosts both refuse it.
bool looks_like_inet_aton_number(std::string_view label);

// A DNS upstream: "IP" (port 53), "IPv4:PORT" or "[IPv6]:PORT"; strict address spellings only.
struct DnsUpstream {
  std::string address;  // canonical text, no brackets
  uint16_t port = 53;
};
std::optional<DnsUpstream> parse_dns_upstream(const std::string& text);
inline bool valid_dns_upstream(const std::string& text) {
  return parse_dns_upstream(text).has_value();
}

}  // namespace airlock::policy
