// Every egress decision in one place: which names may be resolved, which resolved addresses may
// be dialled (internal ranges only where an IP/CIDR rule lists them), which IP literals may be
// reached. Reasons are named so each audit event says why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "egress/host_matcher.h"
#include "egress/ip_address.h"
#include "policy/policy.h"

namespace airlock::egress {

// `airlock observe`: what the sandbox attempts is recorded. `deny` (the default): names no rule
// covers get synthetic DNS answers (egress/synthetic_addresses.h) and nothing leaves; each
// attempt is recorded with what the client sent, then refused. `forward`: what no rule covers is
// allowed and recorded, with every other check kept (internal ranges, rebinding, SNI/Host).
enum class ObserveMode { off, deny, forward };
const char* to_string(ObserveMode mode);

struct Decision {
  bool allowed = false;
  std::string reason;  // "allowed", "denied by rule", "no rule for this host and port", ...
  std::string rule;    // "host:port" of the deciding rule, "" when none
};

struct RefusedAddress {
  IpAddress address;
  std::string reason;  // e.g. "internal address (private) without an IP rule"
};

struct FilteredAddresses {
  std::vector<IpAddress> allowed;
  std::vector<RefusedAddress> refused;
};

class DestinationPolicy {
 public:
  explicit DestinationPolicy(const policy::NetworkPolicy& network,
                             ObserveMode observe = ObserveMode::off);
  ObserveMode observe() const { return observe_; }

  // A normalised name asked for on a port (CONNECT, SOCKS5 domain, absolute URL, DNS mapping).
  Decision decide_name(const std::string& name, uint16_t port) const;
  // An IP literal: only IP/CIDR rules can allow it (a name rule never does).
  Decision decide_literal(const IpAddress& address, uint16_t port) const;
  // May the DNS stub resolve this name at all (some allow rule, on some port)?
  bool name_may_resolve(const std::string& name) const;
  // What a name resolved to, split into what may be dialled on `port` (any port of an IP rule
  // when nullopt, as the DNS stub does not know the port yet) and what may not.
  FilteredAddresses filter_resolved(const std::vector<IpAddress>& addresses,
                                    std::optional<uint16_t> port) const;

 private:
  bool address_listed(const IpAddress& address, std::optional<uint16_t> port) const;
  // observe --forward: what no rule decided is allowed, except internal addresses.
  Decision learn_unmatched(Decision decision, const std::string& name,
                           const IpAddress* literal) const;

  HostMatcher matcher_;
  ObserveMode observe_;
  bool deny_internal_;
  std::vector<uint16_t> address_rule_ports_;  // ports of IP/CIDR allow rules
};

}  // namespace airlock::egress
