#include <fmt/format.h>

#include "cli/commands.h"
#include "policy/policy_loader.h"
#include "policy/run_support.h"
#include "sandbox/launch_plan.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {

int run_command(const RunArguments& arguments) {
  if (arguments.policy_file && arguments.profile) {
    fmt::print(stderr,
               "airlock: --policy and --profile conflict; a policy file can say 'extends: [{}]'\n",
               *arguments.profile);
    return supervisor::kExitBadInput;
  }
  Result<policy::Policy> loaded = arguments.policy_file
                                      ? policy::load_policy_file(*arguments.policy_file)
                                      : policy::load_profile(arguments.profile.value_or("default"));
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return supervisor::kExitBadInput;
  }
  const policy::Policy& policy = *loaded;
  std::vector<std::string> unsupported = policy::unsupported_features(policy);
  if (!unsupported.empty()) {
    for (const std::string& line : unsupported) fmt::print(stderr, "{}\n", line);
    return supervisor::kExitBadInput;
  }
  Result<sandbox::LaunchPlan> plan = sandbox::make_launch_plan(
      sandbox::RunRequest{policy, arguments.workspace, arguments.command});
  if (!plan) {
    fmt::print(stderr, "airlock: {}\n", plan.error().message);
    return supervisor::kExitBadInput;
  }
  supervisor::SupervisorOptions options;
  options.allow_degraded = arguments.allow_degraded;
  options.verbose = arguments.verbose;
  options.audit_path = arguments.audit_path.value_or(policy.audit_path.value_or(""));
  return supervisor::run_sandbox(*plan, options);
}

}  // namespace airlock::cli
