// Memory and pids limits through cgroup v1 (one hierarchy per controller under /sys/fs/cgroup),
// which only root can write. cgroup_limits.h decides when this is used.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/cgroup_usage.h"

namespace airlock::sandbox {

class CgroupV1Limits {
 public:
  // Why the v1 controllers cannot be written by this process, or nullopt when they can.
  static std::optional<std::string> unavailable_reason(bool need_memory, bool need_pids);

  static Result<CgroupV1Limits> create(const std::string& sandbox_id,
                                       std::optional<uint64_t> memory_bytes,
                                       std::optional<uint32_t> max_pids);
  CgroupV1Limits(CgroupV1Limits&&) noexcept = default;
  CgroupV1Limits& operator=(CgroupV1Limits&&) noexcept = default;
  CgroupV1Limits(const CgroupV1Limits&) = delete;
  CgroupV1Limits& operator=(const CgroupV1Limits&) = delete;
  ~CgroupV1Limits() { (void)remove(); }

  Status add(pid_t pid) const;
  CgroupUsage usage() const;
  // Removes the cgroups; the first failure is returned, the rest is still attempted.
  Status remove();

 private:
  CgroupV1Limits() = default;
  // Creates <our cgroup in CONTROLLER's hierarchy>LEAF and records it for remove().
  Result<std::string> make_leaf(const char* controller, const std::string& leaf);
  std::string memory_dir_;
  std::string pids_dir_;
  std::vector<std::string> directories_;
};

}  // namespace airlock::sandbox
