// The lifecycle of one sandbox: check what can be enforced, spawn the child, place it in its
// cgroup and user namespace, forward signals, enforce the timeout, audit, return the status.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "egress/destination_policy.h"
#include "publish/publish_server.h"
#include "sandbox/launch_plan.h"

namespace airlock::credentials {
class CredentialVault;
}
namespace airlock::intercept {
struct Interception;
}
namespace airlock::control {
class ControlServer;
}

namespace airlock::supervisor {

struct SupervisorOptions {
  bool allow_degraded = false;
  bool verbose = false;
  std::string audit_path;  // empty: no audit log
  // The run's credentials, held here and handed to the egress proxy (null: none).
  credentials::CredentialVault* credentials = nullptr;
  intercept::Interception* interception = nullptr;
  std::string trust_bundle_path;  // where Interception::issue_ca writes the sandbox's bundle
  // `airlock observe`: what the proxy does with what no rule covers (record, then refuse or
  // allow); `off` for `airlock run`.
  egress::ObserveMode observe = egress::ObserveMode::off;
  // The sandbox's control socket (`airlock ps`, `stop`, and `exec` for sessions), already bound;
  // served from set-up to exit. Null: none.
  control::ControlServer* control = nullptr;
  std::string name;  // what `ps` shows
  // Links of a stack (`airlock up`), both ends (publish::CrossingKind link_in / link_out):
  // served with the publish entries, and link_out's names answered by the DNS stub.
  std::vector<publish::PublishTarget> links;
  // Called once when the sandbox is ready (a session's init waits for requests): `session
  // start` returns to its caller then.
  std::function<void()> on_ready;
};

// Exit codes of airlock itself (the agent's own status passes through unchanged).
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitSetupFailed = 125;

int run_sandbox(const sandbox::LaunchPlan& plan, const SupervisorOptions& options);

}  // namespace airlock::supervisor
