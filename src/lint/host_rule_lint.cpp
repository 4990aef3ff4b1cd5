// Name rules of the allowlist: wildcards anyone can register under, and hosts SDKs send
// telemetry or data to, allowed without a comment saying why.
#include <fmt/format.h>

#include <algorithm>

#include "lint/lint_rules.h"

namespace airlock::lint {
namespace {

// An allow rule's or a known host's set of names: one exact name, or every name strictly
// below `base` ("*.base": never the apex, as the egress matcher decides).
struct HostPattern {
  std::string base;
  bool wildcard = false;

  static HostPattern of(const std::string& host) {
    if (host.rfind("*.", 0) == 0) return {host.substr(2), true};
    return {host, false};
  }
};

bool strictly_below(const std::string& name, const std::string& suffix) {
  return name.size() > suffix.size() + 1 && name.ends_with("." + suffix);
}

bool at_or_below(const std::string& name, const std::string& suffix) {
  return name == suffix || strictly_below(name, suffix);
}

// Whether some name matches both patterns.
bool overlap(const HostPattern& a, const HostPattern& b) {
  if (!a.wildcard && !b.wildcard) return a.base == b.base;
  if (a.wildcard && b.wildcard) return at_or_below(a.base, b.base) || at_or_below(b.base, a.base);
  const HostPattern& exact = a.wildcard ? b : a;
  const HostPattern& wildcard = a.wildcard ? a : b;
  return strictly_below(exact.base, wildcard.base);
}

bool is_name_rule(const std::string& host) {
  // IP literals and CIDRs: a ':' (IPv6), a '/' (CIDR) or only digits and dots (IPv4).
  return host.find_first_of(":/") == std::string::npos &&
         host.find_first_not_of("0123456789.") != std::string::npos;
}

// The first shared-tenant suffix at or below `base`, e.g. amazonaws.com for "*.amazonaws.com"
// and for "*.com" (though libpsl already flags that one).
const SharedTenantSuffix* shared_tenant_below(const KnownHosts& known, const std::string& base) {
  for (const SharedTenantSuffix& suffix : known.shared_tenant_suffixes) {
    if (at_or_below(suffix.suffix, base)) return &suffix;
  }
  return nullptr;
}

std::string rule_text(const policy::NetworkRule& rule) {
  return fmt::format("{}:{}", rule.host, rule.port);
}

// Returns true when the rule got an error (a wildcard too broad to say anything more about).
bool lint_wildcard(const LintContext& context, const policy::NetworkRule& rule,
                   Findings& findings) {
  const HostPattern pattern = HostPattern::of(rule.host);
  if (!pattern.wildcard) return false;
  if (context.public_suffixes.is_public_suffix(pattern.base)) {
    findings.push_back(
        {"network.wildcard-public-suffix", Severity::error, rule.where,
         fmt::format("'{}' allows every name under {}, a public suffix: anyone can register a "
                     "host there, so an attacker's server passes the allowlist",
                     rule_text(rule), pattern.base),
         fmt::format("list the exact hosts the program needs (e.g. api.NAME.{}:{})", pattern.base,
                     rule.port)});
    return true;
  }
  if (const SharedTenantSuffix* shared = shared_tenant_below(context.known_hosts, pattern.base)) {
    findings.push_back(
        {"network.wildcard-shared-tenant", Severity::error, rule.where,
         fmt::format("'{}' covers {}, a shared-tenant cloud suffix ({}): an attacker's bucket "
                     "or account there passes the allowlist",
                     rule_text(rule), shared->suffix, shared->why),
         fmt::format("list the exact hosts, e.g. your bucket's or account's own name:{}",
                     rule.port)});
    return true;
  }
  return false;
}

bool denied(const policy::NetworkPolicy& network, const policy::NetworkRule& rule) {
  return std::any_of(network.deny.begin(), network.deny.end(), [&](const policy::NetworkRule& d) {
    return d.host == rule.host && d.port == rule.port;
  });
}

void lint_known_endpoint(const LintContext& context, const policy::NetworkRule& rule,
                         Findings& findings) {
  if (denied(context.policy.network, rule) || context.sources.has_comment(rule.where)) return;
  const HostPattern pattern = HostPattern::of(rule.host);
  for (const KnownEndpoint& endpoint : context.known_hosts.endpoints) {
    if (!overlap(pattern, HostPattern::of(endpoint.host))) continue;
    findings.push_back(
        {"network.known-data-sink", Severity::warning, rule.where,
         fmt::format("'{}' allows {} ({}: {}) without a comment saying why", rule_text(rule),
                     endpoint.host, endpoint.kind, endpoint.why),
         fmt::format("if the program must reach it, say why in a comment on this line or the "
                     "line above; otherwise remove it or move it to deny: (source: {})",
                     endpoint.source)});
    return;  // one finding per rule
  }
}

}  // namespace

void lint_host_rules(const LintContext& context, Findings& findings) {
  for (const policy::NetworkRule& rule : context.policy.network.allow) {
    if (!is_name_rule(rule.host)) continue;
    if (lint_wildcard(context, rule, findings)) continue;
    lint_known_endpoint(context, rule, findings);
  }
}

}  // namespace airlock::lint
