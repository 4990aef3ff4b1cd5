// The lifecycle of one sandbox: check what can be enforced, spawn the child, place it in its
// cgroup and user namespace, forward signals, enforce the timeout, audit, return the status.
#pragma once

#include <string>

#include "sandbox/launch_plan.h"

namespace airlock::supervisor {

struct SupervisorOptions {
  bool allow_degraded = false;
  bool verbose = false;
  std::string audit_path;  // empty: no audit log
};

// Exit codes of airlock itself (the agent's own status passes through unchanged).
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitSetupFailed = 125;

int run_sandbox(const sandbox::LaunchPlan& plan, const SupervisorOptions& options);

}  // namespace airlock::supervisor
