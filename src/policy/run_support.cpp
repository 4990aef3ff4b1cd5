#include "policy/run_support.h"

namespace airlock::policy {

std::vector<std::string> unsupported_features(const Policy& policy) {
  std::vector<std::string> problems;
  auto add = [&problems](const SourceLocation& where, const std::string& what) {
    problems.push_back(where.to_string() + ": " + what + " is not supported yet");
  };
  // Rules under a mode that ignores them would be a silent no-op: refuse instead.
  if (policy.network.mode == NetworkMode::deny_all && !policy.network.allow.empty()) {
    problems.push_back(policy.network.allow.front().where.to_string() +
                       ": network allow has no effect with mode deny_all; write mode: allowlist");
  }
  if (policy.network.mode == NetworkMode::deny_all && policy.network.dns_upstream) {
    problems.push_back(policy.network.dns_upstream_where.to_string() +
                       ": network dns_upstream has no effect with mode deny_all; write mode: "
                       "allowlist");
  }
  if (policy.network.mode == NetworkMode::observe) {
    add(policy.network.mode_where, "network mode observe (write mode: allowlist or deny_all)");
  }
  if (!policy.network.unix_sockets.empty())
    add(policy.network.unix_sockets.front().where, "network unix_sockets");
  if (!policy.credentials.empty() && policy.network.mode != NetworkMode::allowlist) {
    problems.push_back(policy.credentials.front().where.to_string() +
                       ": credentials are used by the egress proxy, which needs network mode: "
                       "allowlist");
  }
  return problems;
}

}  // namespace airlock::policy
