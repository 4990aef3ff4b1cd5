// The wire format between the sandbox's init (pid 1 inside) and the supervisor: fixed-size
// records over a pipe, so the child can report (step, errno) without allocating.
#pragma once

#include <cstdint>

namespace airlock::sandbox {

enum class Step : int32_t {
  none = 0,
  wait_for_supervisor,
  close_inherited_fds,
  own_identity_maps,
  mount_private,
  staging_root,
  first_pivot,
  new_root,
  proc,
  dev,
  tmpfs,
  bind,
  symlink,
  workspace,
  workspace_idmap,
  protect,
  pin,
  hide,
  file,
  seal_root,
  pivot_root,
  working_directory,
  hostname,
  loopback,
  cgroup_namespace,
  user_namespace,
  identity,
  session,
  rlimits,
  landlock,
  capabilities,
  no_new_privs,
  parent_death_signal,
  seccomp,
  start_agent,
  exec,
};

const char* describe(Step step);  // "mount /proc", "drop capabilities", ...

enum class ReportKind : int32_t {
  setup_failed = 1,  // step, error, detail (index of the mount step, if any)
  started,           // the agent exec'd; value = its pid inside the sandbox
  exited,            // value = the agent's wait status
};

struct Report {
  ReportKind kind;
  Step step;
  int32_t error;  // errno
  int32_t value;  // detail index, pid or wait status
};

}  // namespace airlock::sandbox
