// Memory and pids limits for the whole sandbox through cgroups, set by the supervisor before
// the child is released. Each limit goes to the first that can hold it: a delegated cgroup v2,
// else cgroup v1 when writable (root); otherwise the choice says what was tried and why not.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "sandbox/cgroup_usage.h"
#include "sandbox/cgroup_v1.h"
#include "sandbox/cgroup_v2.h"

namespace airlock::sandbox {

enum class CgroupVersion { v1, v2 };
const char* layer_name(CgroupVersion version);  // "cgroup-v1", "cgroup-v2"

struct CgroupChoice {
  std::optional<CgroupVersion> memory;  // who enforces the memory limit, if anyone
  std::optional<CgroupVersion> pids;
  std::string memory_problem;  // when a memory limit was wanted and nothing can hold it
  std::string pids_problem;
};

// Decides, without changing anything, where each wanted limit can be enforced.
CgroupChoice choose_cgroups(bool need_memory, bool need_pids);

class CgroupLimits {
 public:
  // Creates exactly the cgroups `choice` names; the limits it does not place are not created.
  static Result<CgroupLimits> create(const std::string& sandbox_id, const CgroupChoice& choice,
                                     std::optional<uint64_t> memory_bytes,
                                     std::optional<uint32_t> max_pids);

  Status add(pid_t pid) const;
  CgroupUsage usage() const;
  // Removes what was created; the destructors do it too, but cannot report a failure.
  Status remove();

 private:
  CgroupLimits() = default;
  std::optional<CgroupV2Limits> v2_;
  std::optional<CgroupV1Limits> v1_;
};

}  // namespace airlock::sandbox
