#include "egress/destination_policy.h"

#include <algorithm>

#include <fmt/format.h>

#include "egress/address_class.h"

namespace airlock::egress {
namespace {

bool is_address_rule(const policy::NetworkRule& rule) {
  return rule.host.find('/') != std::string::npos || IpAddress::parse(rule.host).has_value();
}

Decision from_match(const RuleMatch& match) {
  return Decision{match.allowed, match.reason, match.rule_text()};
}

}  // namespace

const char* to_string(ObserveMode mode) {
  switch (mode) {
    case ObserveMode::off:
      return "off";
    case ObserveMode::deny:
      return "deny";
    case ObserveMode::forward:
      return "forward";
  }
  return "?";
}

DestinationPolicy::DestinationPolicy(const policy::NetworkPolicy& network, ObserveMode observe)
    : matcher_(network.allow, network.deny),
      observe_(observe),
      deny_internal_(network.deny_internal) {
  for (const policy::NetworkRule& rule : network.allow) {
    if (is_address_rule(rule) && std::find(address_rule_ports_.begin(), address_rule_ports_.end(),
                                           rule.port) == address_rule_ports_.end()) {
      address_rule_ports_.push_back(rule.port);
    }
  }
}

Decision DestinationPolicy::learn_unmatched(Decision decision, const std::string& name,
                                            const IpAddress* literal) const {
  // A deny rule that matched stays a denial: the user wrote it. localhost means the host's own
  // loopback (never resolved, so never filtered as internal): only a rule opens it.
  if (observe_ != ObserveMode::forward || decision.allowed || !decision.rule.empty() ||
      name == "localhost") {
    return decision;
  }
  if (literal != nullptr && deny_internal_) {
    AddressVerdict verdict = classify_address(*literal);
    if (is_internal(verdict.kind)) {
      decision.reason += " (observe --forward never opens an internal address: " +
                         std::string(to_string(verdict.kind)) + ")";
      return decision;
    }
  }
  return Decision{true, "observe --forward: no rule covers it; allowed so it can be recorded", ""};
}

Decision DestinationPolicy::decide_name(const std::string& name, uint16_t port) const {
  return learn_unmatched(from_match(matcher_.match_name(name, port)), name, nullptr);
}

Decision DestinationPolicy::decide_literal(const IpAddress& address, uint16_t port) const {
  Decision decision = from_match(matcher_.match_address(address, port));
  if (!decision.allowed && decision.rule.empty()) {
    decision.reason = "an IP address is only reachable through an IP or CIDR rule";
  }
  return learn_unmatched(std::move(decision), "", &address);
}

bool DestinationPolicy::name_may_resolve(const std::string& name) const {
  // forward: every name is resolved upstream; what it resolves to is still filtered.
  return observe_ == ObserveMode::forward || matcher_.name_may_be_allowed(name);
}

bool DestinationPolicy::address_listed(const IpAddress& address,
                                       std::optional<uint16_t> port) const {
  if (port) return matcher_.match_address(address, *port).allowed;
  return std::any_of(
      address_rule_ports_.begin(), address_rule_ports_.end(),
      [&](uint16_t rule_port) { return matcher_.match_address(address, rule_port).allowed; });
}

FilteredAddresses DestinationPolicy::filter_resolved(const std::vector<IpAddress>& addresses,
                                                     std::optional<uint16_t> port) const {
  FilteredAddresses filtered;
  for (const IpAddress& address : addresses) {
    AddressVerdict verdict = classify_address(address);
    // Unspecified and multicast are never a server, whatever the policy says about internal.
    bool never = verdict.kind == AddressClass::unspecified ||
                 verdict.kind == AddressClass::multicast || verdict.kind == AddressClass::broadcast;
    if (!never &&
        (!is_internal(verdict.kind) || !deny_internal_ || address_listed(address, port))) {
      filtered.allowed.push_back(address);
      continue;
    }
    std::string kind = to_string(verdict.kind);
    if (verdict.embedded) kind += " " + verdict.effective.to_string() + " embedded";
    filtered.refused.push_back({address, fmt::format("{} address ({}) without an IP rule for it",
                                                     address.to_string(), kind)});
  }
  return filtered;
}

}  // namespace airlock::egress
