// Small builders the egress tests share: a network policy from rule texts, an address from text.
#pragma once

#include <string>
#include <vector>

#include "egress/ip_address.h"
#include "policy/network_rule.h"
#include "policy/policy.h"

namespace airlock::egress::testing {

inline policy::NetworkPolicy network(std::vector<std::string> allow,
                                     std::vector<std::string> deny = {},
                                     bool deny_internal = true) {
  policy::NetworkPolicy result;
  result.mode = policy::NetworkMode::allowlist;
  result.deny_internal = deny_internal;
  for (const std::string& text : allow)
    result.allow.push_back(*policy::parse_network_rule(text).rule);
  for (const std::string& text : deny)
    result.deny.push_back(*policy::parse_network_rule(text).rule);
  return result;
}

inline IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

}  // namespace airlock::egress::testing
