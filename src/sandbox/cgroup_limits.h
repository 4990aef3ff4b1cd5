// Memory and pids limits for the whole sandbox through cgroups, set by the supervisor before
// the child is released. cgroup v1 (memory, pids controllers) is used when the caller can
// write it (root); otherwise the plan reports the limit as not enforceable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace airlock::sandbox {

struct CgroupUsage {
  std::optional<uint64_t> peak_memory_bytes;
  uint64_t memory_limit_hits = 0;  // allocations refused at the limit (memory.failcnt)
  uint64_t oom_kills = 0;
  uint64_t pids_limit_hits = 0;  // forks refused at pids.max
};

class CgroupLimits {
 public:
  // Where cgroup v1 controllers can be written by this process, or why not.
  static std::optional<std::string> unavailable_reason(bool need_memory, bool need_pids);

  static Result<CgroupLimits> create(const std::string& sandbox_id,
                                     std::optional<uint64_t> memory_bytes,
                                     std::optional<uint32_t> max_pids);
  CgroupLimits(CgroupLimits&&) noexcept = default;
  CgroupLimits& operator=(CgroupLimits&&) noexcept = default;
  CgroupLimits(const CgroupLimits&) = delete;
  CgroupLimits& operator=(const CgroupLimits&) = delete;
  ~CgroupLimits();

  Status add(pid_t pid) const;
  CgroupUsage usage() const;
  const std::vector<std::string>& directories() const { return directories_; }

 private:
  CgroupLimits() = default;
  std::string memory_dir_;
  std::string pids_dir_;
  std::vector<std::string> directories_;
};

}  // namespace airlock::sandbox
