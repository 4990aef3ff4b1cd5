// Memory and pids limits through a delegated cgroup v2 (see cgroup_v2_delegation.h for how
// the sandbox cgroup is placed). cgroup_limits.h decides when this is used.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "sandbox/cgroup_usage.h"
#include "sandbox/cgroup_v2_delegation.h"

namespace airlock::sandbox {

class CgroupV2Limits {
 public:
  // Why a delegated cgroup v2 cannot hold these limits, or nullopt when it can.
  static std::optional<std::string> unavailable_reason(bool need_memory, bool need_pids);

  static Result<CgroupV2Limits> create(const std::string& sandbox_id,
                                       std::optional<uint64_t> memory_bytes,
                                       std::optional<uint32_t> max_pids);

  Status add(pid_t pid) const { return cgroup_.add(pid); }
  CgroupUsage usage() const;
  Status remove() { return cgroup_.remove(); }

 private:
  explicit CgroupV2Limits(DelegatedCgroup cgroup) : cgroup_(std::move(cgroup)) {}
  DelegatedCgroup cgroup_;
  bool memory_ = false;
  bool pids_ = false;
};

}  // namespace airlock::sandbox
