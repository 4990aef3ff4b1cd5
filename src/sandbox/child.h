// The child half: runs as pid 1 of the new pid namespace, builds the sandbox step by step,
// starts the agent and stays as its init. Between clone and exec nothing here allocates;
// failures travel to the supervisor as Report{setup_failed, step, errno}.
#pragma once

#include <signal.h>

#include <cstdint>

#include "sandbox/child_report.h"
#include "sandbox/launch_plan.h"
#include "sandbox/user_namespace.h"

namespace airlock::sandbox {

// Bytes of the supervisor's memory that hold a secret (a credential's value, a secret-looking
// variable of the caller's environment): the child's copy of them is zeroed before anything else,
// so the sandbox's init holds none (the agent cannot read it, and now it has nothing to read).
struct SecretRegion {
  char* data = nullptr;
  size_t size = 0;
};

struct ChildContext {
  const LaunchPlan* plan = nullptr;
  const SecretRegion* secrets = nullptr;  // `secret_count` regions, in the child's own copy
  size_t secret_count = 0;
  char* const* argv = nullptr;  // null-terminated, pointing into plan->argv
  char* const* envp = nullptr;  // null-terminated, pointing into plan->environment
  int sync_read_fd = -1;        // socket: one byte per "go", or the user namespaces; EOF: it died
  int report_write_fd = -1;     // Report records to the supervisor
  // Started by root: the user namespaces the supervisor sends (user_namespace.h), taken from
  // the sync socket when first needed. Points into the child's own copy of memory.
  ReceivedUserNamespaces* user_namespaces = nullptr;
  int landlock_abi = 0;  // 0: Landlock unavailable (reported up front by the supervisor)
  int cap_last_cap = 40;
  uint32_t process_rlimit = 0;  // RLIMIT_NPROC for the sandbox; 0: none
  // Started by a normal user: "INSIDE OUTSIDE 1\n" lines the child writes to its own uid_map and
  // gid_map before anything else (an unprivileged process may map exactly its own ids).
  const char* own_uid_map = nullptr;
  const char* own_gid_map = nullptr;
  // A second "go" once the supervisor has moved us into cgroups and set up the egress side of
  // our network namespace (routes, nftables, listeners).
  bool wait_for_setup = false;
  sigset_t original_mask{};  // the caller's signal mask, restored for the agent
};

[[noreturn]] void run_child(const ChildContext& context);
// A session's init, once confined: forks the supervisor's exec requests (session_init.cpp).
[[noreturn]] void serve_session(const ChildContext& context);

// Child-side building blocks, each reporting the failing step through `failure`.
struct Failure {
  Step step = Step::none;
  int error = 0;
  int detail = -1;  // index into plan->mounts, when a mount step failed
};

bool build_mount_tree(const ChildContext& context, Failure& failure);
bool apply_landlock(const ChildContext& context, Failure& failure);
bool drop_capabilities(const ChildContext& context, Failure& failure);
bool install_seccomp(const std::vector<sock_filter>& program, Failure& failure);

}  // namespace airlock::sandbox
