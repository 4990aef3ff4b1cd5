#include "credentials/unreachable_bindings.h"

#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "egress/host_matcher.h"

namespace airlock::credentials {

std::vector<std::string> unreachable_bindings(const policy::Policy& policy) {
  std::vector<std::string> lines;
  const egress::HostMatcher matcher(policy.network.allow, policy.network.deny);
  for (const policy::CredentialRule& rule : policy.credentials) {
    std::vector<std::pair<std::string, uint16_t>> targets;
    if (rule.type == policy::CredentialType::mtls) {
      targets.emplace_back(rule.host, rule.port);
    } else {
      for (const std::string& host : rule.hosts) targets.emplace_back(host, 443);
    }
    for (const auto& [host, port] : targets) {
      if (matcher.match_name(host, port).allowed) continue;
      lines.push_back(fmt::format(
          "{}: credential {} is bound to {}:{}, which no network allow rule reaches; add {}:{} "
          "to network.allow",
          rule.where.to_string(), rule.name, host, port, host, port));
    }
  }
  return lines;
}

}  // namespace airlock::credentials
