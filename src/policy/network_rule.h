// "host:port" allow/deny entries. Only syntax is decided here; matching lives in the egress code.
#pragma once

#include <optional>
#include <string>

#include "policy/policy.h"

namespace airlock::policy {

// Returns the parsed rule, or an explanation of what is wrong (without location).
struct NetworkRuleParse {
  std::optional<NetworkRule> rule;
  std::string problem;
};
NetworkRuleParse parse_network_rule(const std::string& text);

}  // namespace airlock::policy
