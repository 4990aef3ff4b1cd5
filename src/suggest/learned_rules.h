// From connection attempts to allow rules: what the base does not allow yet, exact names and
// ports, internal addresses flagged, sibling names collapsed only when asked and never above a
// registrable domain. Also what was seen but cannot or must not become a rule.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "policy/policy.h"
#include "suggest/connection_attempts.h"

namespace airlock::suggest {

using ProgramCounts = std::map<std::string, uint64_t>;  // program label -> attempts

struct LearnedRule {
  std::string host;  // a name, "*.parent", an IP literal (no brackets) or "localhost"
  uint16_t port = 0;
  ProgramCounts programs;
  std::optional<std::string> flag;  // why a reviewer should look twice (internal, address rule)
  std::string text() const;         // as a policy writes it: "[::1]:443" for IPv6
};

// A destination that gets no rule, and why.
struct UnlearnedDestination {
  std::string destination;  // host:port
  std::string why;
  ProgramCounts programs;
};

struct LearnedRules {
  std::vector<LearnedRule> rules;  // names first (sorted), then localhost, then addresses
  std::vector<UnlearnedDestination> unlearned;  // sorted by destination
  uint64_t already_allowed = 0;                 // attempts the base allows as it is
};

// `collapse`: N or more sibling names under one parent become "*.parent:PORT" when the parent
// is at or below a registrable domain (libpsl) and no shared-tenant suffix lies under it.
Result<LearnedRules> learn_rules(const std::vector<ConnectionAttempt>& attempts,
                                 const policy::NetworkPolicy& base,
                                 std::optional<uint32_t> collapse);

// "git (clone) x3, npm (install) x41": most attempts first.
std::string describe_programs(const ProgramCounts& programs);

}  // namespace airlock::suggest
