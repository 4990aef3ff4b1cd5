// credential.NAME: what the sandbox holds instead of each secret, and where the proxy uses the
// real value (credentials/, intercept/; README "Credentials: keys stay outside").
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "explain/rows.h"

namespace airlock::explain {
namespace {

std::string lifetime(const policy::CredentialRule& rule, const policy::Policy& policy) {
  std::string text;
  const uint64_t ttl =
      rule.ttl_seconds != 0 ? rule.ttl_seconds : policy.credential_ttl_seconds.value_or(0);
  if (ttl != 0) text += fmt::format("; the placeholder is refused {}s after the start", ttl);
  if (rule.max_uses != 0) text += fmt::format("; and after {} uses", rule.max_uses);
  if (rule.optional) text += "; optional: a missing source skips it (one line on stderr)";
  return text;
}

CapabilityRow header_row(const policy::CredentialRule& rule, const policy::Policy& policy) {
  CapabilityRow row;
  row.capability = "credential." + rule.name;
  row.verdict = Verdict::granted;
  for (const std::string& host : rule.hosts) row.targets.push_back(host + ":443");
  row.scope = fmt::format(
      "${} holds a placeholder (random per run, same length and prefix); the real value ({}, read "
      "by airlock only) replaces it only in request headers and the query of requests to {} over "
      "TLS airlock verifies, never in bodies; responses get it turned back into the placeholder; "
      "the placeholder anywhere else (another host, plain HTTP) is refused with 403 and audited",
      rule.name, rule.from, fmt::join(rule.hosts, ", "));
  row.layers = {Layer::environment, Layer::proxy, Layer::tls_interception};
  if (!rule.endpoint_variable.empty()) {
    row.scope += fmt::format(
        "; ${} is a local endpoint (http://127.0.0.1:PORT{}) whose plain HTTP the proxy forwards "
        "to {} over verified TLS",
        rule.endpoint_variable, rule.endpoint_path, rule.hosts.empty() ? "" : rule.hosts.front());
  }
  row.scope += lifetime(rule, policy);
  row.source = source_of(rule.where);
  return row;
}

CapabilityRow mtls_row(const policy::CredentialRule& rule) {
  CapabilityRow row;
  row.capability = "credential." + rule.name;
  row.verdict = Verdict::granted;
  row.targets = {fmt::format("{}:{}", rule.host, rule.port)};
  row.scope = fmt::format(
      "the proxy presents the client certificate {} (key {}, both hidden inside) to {}:{} and "
      "verifies the server against {} only; the agent connects there in plain TCP, or in TLS "
      "that airlock terminates with the run CA",
      rule.cert, rule.key, rule.host, rule.port, rule.ca);
  if (rule.optional) row.scope += "; optional: a missing file skips it (one line on stderr)";
  row.layers = {Layer::proxy, Layer::tls_interception, Layer::mount};
  row.source = source_of(rule.where);
  return row;
}

}  // namespace

void add_credential_rows(const policy::Policy& policy, std::vector<CapabilityRow>& rows) {
  for (const policy::CredentialRule& rule : policy.credentials) {
    rows.push_back(rule.type == policy::CredentialType::mtls ? mtls_row(rule)
                                                             : header_row(rule, policy));
  }
}

}  // namespace airlock::explain
