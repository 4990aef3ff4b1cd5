// A child cgroup for the sandbox under our own cgroup v2, where that cgroup is delegated to us
// (writable, offering the controllers). cgroup v2's "no internal processes" rule lets a
// non-root cgroup enable controllers for its children only while it has no member processes,
// so when our cgroup has not enabled them yet and we are its only process, the supervisor
// first moves into a leaf of its own (as crun and podman do under systemd delegation).
//
//   <own>/                          cgroup.subtree_control: +memory +pids
//   <own>/airlock-supervisor-<id>/  this process, while the sandbox runs (only if moved)
//   <own>/airlock-<id>/             the sandbox: memory.max, pids.max
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/cgroup_v2_location.h"

namespace airlock::sandbox {

struct DelegationPlan {
  Cgroup2Location own;
  std::vector<std::string> to_enable;  // needed, not yet in <own>/cgroup.subtree_control
};

// Whether our cgroup v2 can host a sandbox cgroup with `controllers`; the error is one line
// with the cause and, where the user can fix it, how.
Result<DelegationPlan> plan_delegation(const std::vector<std::string>& controllers);

class DelegatedCgroup {
 public:
  // Creates <own>/airlock-<sandbox_id> as planned. On failure everything done so far is undone.
  static Result<DelegatedCgroup> create(const DelegationPlan& plan, const std::string& sandbox_id);
  DelegatedCgroup(DelegatedCgroup&& other) noexcept;
  DelegatedCgroup& operator=(DelegatedCgroup&&) = delete;
  DelegatedCgroup(const DelegatedCgroup&) = delete;
  DelegatedCgroup& operator=(const DelegatedCgroup&) = delete;
  ~DelegatedCgroup() { (void)remove(); }

  const std::string& directory() const { return sandbox_dir_; }
  Status add(pid_t pid) const;
  // Removes the sandbox cgroup, disables what we enabled, moves the supervisor back and
  // removes its leaf; the first failure is returned, the rest is still attempted.
  Status remove();

 private:
  DelegatedCgroup() = default;
  std::string own_dir_;
  std::string sandbox_dir_;
  std::string supervisor_dir_;        // set while the supervisor lives in its own leaf
  std::vector<std::string> enabled_;  // what we wrote to <own>/cgroup.subtree_control
};

}  // namespace airlock::sandbox
