#include <fmt/format.h>

#include <unistd.h>

#include "cli/commands.h"
#include "cli/credential_setup.h"
#include "cli/policy_choice.h"
#include "policy/network_rule.h"
#include "policy/run_support.h"
#include "sandbox/launch_plan.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {
namespace {

// --allow and --dns-upstream: quick additions on top of the policy, validated like its entries.
std::optional<std::string> apply_network_options(const RunArguments& arguments,
                                                 policy::Policy& policy) {
  for (const std::string& text : arguments.allow) {
    policy::NetworkRuleParse parsed = policy::parse_network_rule(text);
    if (!parsed.rule) return "--allow: " + parsed.problem;
    policy::NetworkRule rule = *parsed.rule;
    rule.where = policy::SourceLocation{"--allow " + text, 0, 0};
    policy.network.allow.push_back(rule);
    policy.network.mode = policy::NetworkMode::allowlist;
  }
  if (arguments.dns_upstream) {
    if (!policy::valid_dns_upstream(*arguments.dns_upstream)) {
      return "--dns-upstream '" + *arguments.dns_upstream +
             "' is not an IP address with an optional port; write e.g. 127.0.0.1:5353";
    }
    if (policy.network.mode != policy::NetworkMode::allowlist) {
      return "--dns-upstream needs an allowlist (network mode: allowlist, or --allow HOST:PORT)";
    }
    policy.network.dns_upstream = arguments.dns_upstream;
  }
  return std::nullopt;
}

}  // namespace

int run_command(const RunArguments& arguments) {
  Result<policy::Policy> loaded =
      load_chosen_policy(arguments.policy_file, arguments.profile, "--policy");
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return supervisor::kExitBadInput;
  }
  return run_policy(std::move(loaded).value(), arguments, egress::ObserveMode::off);
}

int run_policy(policy::Policy policy, const RunArguments& arguments, egress::ObserveMode observe) {
  if (std::optional<std::string> problem = apply_network_options(arguments, policy)) {
    fmt::print(stderr, "airlock: {}\n", *problem);
    return supervisor::kExitBadInput;
  }
  if (Status applied = apply_credential_options(arguments.credentials, policy); !applied) {
    fmt::print(stderr, "airlock: {}\n", applied.error().message);
    return supervisor::kExitBadInput;
  }
  std::vector<std::string> unsupported = policy::unsupported_features(policy);
  if (!unsupported.empty()) {
    for (const std::string& line : unsupported) fmt::print(stderr, "{}\n", line);
    return supervisor::kExitBadInput;
  }
  Result<PreparedCredentials> credentials = prepare_credentials(policy);
  if (!credentials) {
    fmt::print(stderr, "airlock: {}\n", credentials.error().message);
    return supervisor::kExitBadInput;
  }
  Result<sandbox::LaunchPlan> plan = sandbox::make_launch_plan(
      sandbox::RunRequest{policy, arguments.workspace, arguments.command, credentials->view});
  if (!plan) {
    fmt::print(stderr, "airlock: {}\n", plan.error().message);
    return supervisor::kExitBadInput;
  }
  for (const std::string& name :
       credentials->vault ? credentials->vault->skipped() : std::vector<std::string>{}) {
    fmt::print(stderr, "airlock: credential {} is optional and its source is not set; not used\n",
               name);
  }
  for (const std::string& name : plan->dropped_variables) {
    fmt::print(stderr,
               "airlock: not passing {} into the sandbox (it looks like a secret); to let the "
               "proxy use it for its host, add it under credentials: (or --credential "
               "{}=HOST); to pass it anyway, list it in process.env.pass\n",
               name, name);
  }
  supervisor::SupervisorOptions options;
  options.allow_degraded = arguments.allow_degraded;
  options.verbose = arguments.verbose;
  options.audit_path = arguments.audit_path.value_or(policy.audit_path.value_or(""));
  options.credentials = credentials.value().vault.get();
  options.interception = credentials.value().interception.get();
  options.trust_bundle_path = credentials->view.trust_bundle_path;
  options.observe = observe;
  sandbox::LaunchPlan launch = std::move(plan).value();
  launch.watch_exec = observe != egress::ObserveMode::off;
  return supervisor::run_sandbox(launch, options);
}

}  // namespace airlock::cli
