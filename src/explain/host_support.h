// What this host lets `airlock run` enforce for the calling user: the probes the run itself makes
// (Landlock ABI, where a memory or pids cgroup can live, whether started by root), so `explain`
// never claims more than a run would do here. The golden tests use a fixed description instead.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace airlock::explain {

// Where one cgroup limit would be enforced: "cgroup-v2" or "cgroup-v1", or nowhere and why.
struct CgroupSupport {
  std::optional<std::string> layer;
  std::string problem;  // when `layer` is empty: both causes, as `airlock run` prints them
};

struct HostSupport {
  bool probed = false;  // false: a fixed description (AIRLOCK_EXPLAIN_HOST=fixed, tests)
  uid_t uid = 0;        // the caller; started by root the agent runs as 65534 instead
  gid_t gid = 0;
  bool root = false;
  int landlock_abi = 0;  // 0: no Landlock
  CgroupSupport memory;
  CgroupSupport pids;
  // RLIMIT_NOFILE's hard limit of this session (0: unlimited): a policy asking for more open
  // files is refused by the run, since nothing in the sandbox may raise a hard limit.
  uint64_t open_files_hard_limit = 0;
  // Empty when a sandbox's user namespace can be created; otherwise why not (the run fails).
  std::string user_namespace_problem;
};

// The calling user on this host, probed as `airlock run` would (nothing is created).
HostSupport probe_host_support();

// A fixed, documented host for reproducible output (docs/explain.md): uid/gid 1000, not root,
// Landlock ABI 6, user namespaces available, no delegated cgroup and no writable cgroup v1,
// a hard limit of 524288 open files.
HostSupport fixed_host_support();

}  // namespace airlock::explain
