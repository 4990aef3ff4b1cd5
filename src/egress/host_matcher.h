// The allowlist decision: may this host (a normalised name, or an address) be reached on this
// port? Deny rules win over allow rules; a name rule never allows an address. Built once from
// the policy, then only read, so one matcher can serve every connection and thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "egress/ip_address.h"
#include "policy/policy.h"

namespace airlock::egress {

struct RuleMatch {
  bool allowed = false;
  // The rule that decided (allow or deny); null when none matched.
  const policy::NetworkRule* rule = nullptr;
  // "allowed", "denied by rule", "no rule for this host and port", "no rule for this address
  // and port".
  const char* reason = "";
  // "host:port" of `rule` as the policy writes it ("[v6]:port" for an IPv6 literal); "" when
  // none.
  std::string rule_text() const;
};

class HostMatcher {
 public:
  // Rules as policy::parse_network_rule makes them: a lower-case name, "*.suffix", an IPv4 or
  // IPv6 literal without brackets, or a CIDR. They are copied; the pointers in RuleMatch stay
  // valid as long as the matcher (moving it keeps them valid; a moved-from matcher is unusable).
  HostMatcher(std::vector<policy::NetworkRule> allow, std::vector<policy::NetworkRule> deny);
  ~HostMatcher();
  HostMatcher(HostMatcher&& other) noexcept;
  HostMatcher& operator=(HostMatcher&& other) noexcept;
  HostMatcher(const HostMatcher&) = delete;
  HostMatcher& operator=(const HostMatcher&) = delete;

  // `name` is normalised (normalise_host) and not an IP literal. "*.x" matches one or more
  // labels below x and never x itself. Among several matching rules of one kind, the exact name
  // is reported first, then the longest suffix. No allocation.
  RuleMatch match_name(std::string_view name, uint16_t port) const;
  // IP literal and CIDR rules only. An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4
  // address: it is matched against IPv4 rules (and rules written as ::ffff:a.b.c.d[/96-128]),
  // never against other IPv6 rules such as ::/0. The longest matching prefix is reported.
  RuleMatch match_address(const IpAddress& address, uint16_t port) const;
  // For the DNS stub: is there a port on which match_name(name, port) allows? A name that fails
  // this gets NXDOMAIN and causes no upstream query.
  bool name_may_be_allowed(std::string_view name) const;
  size_t rule_count() const;

 private:
  struct Tables;
  std::unique_ptr<const Tables> tables_;
};

}  // namespace airlock::egress
