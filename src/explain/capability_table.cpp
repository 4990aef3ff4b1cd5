#include "explain/capability_table.h"

#include <fmt/format.h>

#include <algorithm>

#include "credentials/unreachable_bindings.h"
#include "explain/rows.h"
#include "policy/policy_json.h"
#include "policy/run_support.h"

namespace airlock::explain {
namespace {

CapabilityRow audit_row(const policy::Policy& policy) {
  CapabilityRow row;
  row.capability = "audit";
  row.layers = {Layer::supervisor};
  if (policy.audit_path) {
    row.verdict = Verdict::on;
    row.targets = {*policy.audit_path};
    row.scope =
        "JSON Lines appended to this file (0600, outside the sandbox's view): sandbox.start with "
        "the layers enforced, every egress decision and close, credential use and misuse, "
        "limits, quarantined files, the exit; airlock run --audit FILE writes elsewhere";
  } else {
    row.verdict = Verdict::off;
    row.scope = "no audit log unless airlock run is given --audit FILE";
  }
  return row;
}

// A credential bound to a host no allow rule reaches is refused by the run; the same function
// decides here.
void add_unreachable_credentials(const policy::Policy& policy, std::vector<std::string>& out) {
  if (policy.credentials.empty() || policy.network.mode != policy::NetworkMode::allowlist) return;
  for (std::string& line : credentials::unreachable_bindings(policy))
    out.push_back(std::move(line));
}

std::vector<std::string> run_refusals(const policy::Policy& policy, const HostSupport& host) {
  std::vector<std::string> refusals = policy::unsupported_features(policy);
  add_unreachable_credentials(policy, refusals);
  if (!host.user_namespace_problem.empty())
    refusals.push_back("cannot start a sandbox: " + host.user_namespace_problem);
  if (host.landlock_abi == 0) {
    refusals.emplace_back(
        "cannot enforce landlock: the kernel does not offer Landlock (--allow-degraded runs "
        "without it)");
  }
  if (policy.process.max_memory_mb && !host.memory.layer) {
    refusals.push_back("cannot enforce memory limit: " + host.memory.problem +
                       " (--allow-degraded runs without it)");
  }
  const std::optional<uint32_t>& files = policy.process.max_open_files;
  if (files && host.open_files_hard_limit != 0 && *files > host.open_files_hard_limit) {
    refusals.push_back(fmt::format(
        "{}: process max_open_files {} is above this session's hard limit of {} open files",
        policy.process.max_open_files_where.to_string(), *files, host.open_files_hard_limit));
  }
  return refusals;
}

}  // namespace

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::granted:
      return "granted";
    case Verdict::denied:
      return "denied";
    case Verdict::limited:
      return "limited";
    case Verdict::on:
      return "on";
    case Verdict::off:
      return "off";
  }
  return "?";
}

const char* to_string(Layer layer) {
  switch (layer) {
    case Layer::namespaces:
      return "namespace";
    case Layer::mount:
      return "mount";
    case Layer::landlock:
      return "landlock";
    case Layer::seccomp:
      return "seccomp";
    case Layer::capabilities:
      return "capabilities";
    case Layer::no_new_privs:
      return "no_new_privs";
    case Layer::nftables:
      return "nftables";
    case Layer::proxy:
      return "proxy";
    case Layer::dns_stub:
      return "dns-stub";
    case Layer::tls_interception:
      return "tls-interception";
    case Layer::cgroup:
      return "cgroup";
    case Layer::rlimit:
      return "rlimit";
    case Layer::supervisor:
      return "supervisor";
    case Layer::environment:
      return "environment";
  }
  return "?";
}

std::string source_of(const policy::SourceLocation& where) {
  return where.file.empty() ? "" : where.to_string();
}

CapabilityTable explain(const policy::Policy& policy, const std::string& policy_source,
                        const HostSupport& host) {
  CapabilityTable table;
  table.policy_name = policy.name;
  table.policy_source = policy_source;
  table.policy_sha256 = policy::policy_sha256(policy);
  table.host = host;
  table.run_refusals = run_refusals(policy, host);
  add_filesystem_rows(policy, host, table.rows);
  add_network_rows(policy, table.rows);
  add_credential_rows(policy, table.rows);
  add_process_rows(policy, host, table.rows);
  add_syscall_rows(policy, table.rows);
  table.rows.push_back(audit_row(policy));
  return table;
}

}  // namespace airlock::explain
