#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "policy/policy_json.h"
#include "policy/policy_loader.h"
#include "policy/run_support.h"
#include "seccomp/filter_builder.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {
namespace {

std::string paths(const std::vector<policy::PathEntry>& entries) {
  if (entries.empty()) return "-";
  std::string out;
  for (const policy::PathEntry& entry : entries) out += (out.empty() ? "" : " ") + entry.path;
  return out;
}

std::string rule_text(const policy::NetworkRule& rule) {
  bool ipv6 = rule.host.find(':') != std::string::npos && rule.host.find('/') == std::string::npos;
  return ipv6 ? fmt::format("[{}]:{}", rule.host, rule.port)
              : fmt::format("{}:{}", rule.host, rule.port);
}

void print_capability_table(const policy::Policy& policy) {
  const policy::ProcessPolicy& process = policy.process;
  auto row = [](const char* what, const std::string& value) {
    fmt::print("  {:<14} {}\n", what, value);
  };
  const policy::NetworkPolicy& network = policy.network;
  if (network.mode == policy::NetworkMode::allowlist) {
    row("network", fmt::format("allowlist through airlock's proxy ({} allowed, {} denied; internal "
                               "addresses {}; DNS via {})",
                               network.allow.size(), network.deny.size(),
                               network.deny_internal ? "denied unless listed" : "allowed",
                               network.dns_upstream.value_or("the host's resolver")));
    for (const policy::NetworkRule& rule : network.allow) row("  allow", rule_text(rule));
    for (const policy::NetworkRule& rule : network.deny) row("  deny", rule_text(rule));
  } else {
    row("network", network.mode == policy::NetworkMode::deny_all
                       ? "none: only the sandbox's own loopback (deny_all)"
                       : std::string(policy::to_string(network.mode)));
  }
  row("workspace", policy.workspace + " (read-write)");
  row("read-only", paths(policy.filesystem.read_only));
  row("read-write", paths(policy.filesystem.read_write));
  row("hidden", paths(policy.filesystem.hidden));
  row("protected", paths(policy.filesystem.protect) + " (inside the workspace)");
  row("syscalls", process.syscalls.use_default
                      ? fmt::format("default ({} refused, plus argument rules)",
                                    seccomp::default_denied_syscalls().size())
                      : fmt::format("allowlist of {}: {}", process.syscalls.allow.size(),
                                    fmt::join(process.syscalls.allow, " ")));
  row("memory",
      process.max_memory_mb ? fmt::format("{} MiB", *process.max_memory_mb) : "unlimited");
  row("processes", process.max_pids ? std::to_string(*process.max_pids) : "unlimited");
  row("open files", process.max_open_files ? std::to_string(*process.max_open_files) : "inherited");
  row("timeout", process.timeout_seconds ? fmt::format("{}s", *process.timeout_seconds) : "none");
  for (const policy::CredentialRule& rule : policy.credentials) {
    if (rule.type == policy::CredentialType::mtls) {
      row("credential", fmt::format("{}: client certificate for {}:{} (mTLS; verified with {})",
                                    rule.name, rule.host, rule.port, rule.ca));
    } else {
      row("credential", fmt::format("{}: placeholder inside; real value ({}) only for {}{}",
                                    rule.name, rule.from, fmt::join(rule.hosts, " "),
                                    rule.endpoint_variable.empty()
                                        ? " (TLS interception)"
                                        : " (local endpoint " + rule.endpoint_variable + ")"));
    }
  }
  if (!process.env.pass.empty())
    row("env passed", fmt::format("{}", fmt::join(process.env.pass, " ")));
  for (const policy::EnvironmentVariable& variable : process.env.set)
    row("env set", variable.name + "=" + variable.value);
  row("capabilities", "none; no_new_privs; new user namespace");
  row("audit", policy.audit_path.value_or("off (use --audit FILE)"));
}

}  // namespace

int check_command(const CheckArguments& arguments) {
  Result<policy::Policy> loaded = policy::load_policy_file(arguments.policy_file);
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return supervisor::kExitBadInput;
  }
  if (arguments.json) {
    fmt::print("{}\n", policy::to_json(*loaded).dump(2));
    return 0;
  }
  fmt::print("{}: ok (policy '{}', sha256 {})\n", arguments.policy_file, loaded->name,
             policy::policy_sha256(*loaded).substr(0, 16));
  print_capability_table(*loaded);
  for (const std::string& line : policy::unsupported_features(*loaded)) {
    fmt::print("warning: {} (airlock run will refuse this policy)\n", line);
  }
  return 0;
}

}  // namespace airlock::cli
