#include "sandbox/cgroup_v2.h"

#include <unistd.h>

#include <vector>

#include "common/file_io.h"
#include "sandbox/cgroup_files.h"

namespace airlock::sandbox {
namespace {

std::vector<std::string> controllers_for(bool memory, bool pids) {
  std::vector<std::string> names;
  if (memory) names.emplace_back("memory");
  if (pids) names.emplace_back("pids");
  return names;
}

}  // namespace

std::optional<std::string> CgroupV2Limits::unavailable_reason(bool need_memory, bool need_pids) {
  Result<DelegationPlan> plan = plan_delegation(controllers_for(need_memory, need_pids));
  if (!plan) return plan.error().message;
  return std::nullopt;
}

Result<CgroupV2Limits> CgroupV2Limits::create(const std::string& sandbox_id,
                                              std::optional<uint64_t> memory_bytes,
                                              std::optional<uint32_t> max_pids) {
  Result<DelegationPlan> plan =
      plan_delegation(controllers_for(memory_bytes.has_value(), max_pids.has_value()));
  if (!plan) return Error{"cannot use cgroup v2: " + plan.error().message};
  Result<DelegatedCgroup> cgroup = DelegatedCgroup::create(*plan, sandbox_id);
  if (!cgroup) return cgroup.error();
  CgroupV2Limits limits(std::move(cgroup).value());
  const std::string& dir = limits.cgroup_.directory();
  if (memory_bytes) {
    if (Status s = write_file(dir + "/memory.max", std::to_string(*memory_bytes)); !s)
      return s.error();
    // Without this the sandbox could exceed its limit by swapping to the host's disk. The file
    // is absent when the kernel has no swap accounting, and then there is nothing to dodge into.
    if (::access((dir + "/memory.swap.max").c_str(), F_OK) == 0) {
      if (Status s = write_file(dir + "/memory.swap.max", "0"); !s) return s.error();
    }
    limits.memory_ = true;
  }
  if (max_pids) {
    if (Status s = write_file(dir + "/pids.max", std::to_string(*max_pids)); !s) return s.error();
    limits.pids_ = true;
  }
  return limits;
}

CgroupUsage CgroupV2Limits::usage() const {
  const std::string& dir = cgroup_.directory();
  CgroupUsage usage;
  if (memory_) {
    usage.peak_memory_bytes = read_cgroup_number(dir + "/memory.peak");  // Linux 5.19+
    usage.memory_limit_hits = read_keyed_number(dir + "/memory.events", "max");
    usage.oom_kills = read_keyed_number(dir + "/memory.events", "oom_kill");
  }
  if (pids_) usage.pids_limit_hits = read_keyed_number(dir + "/pids.events", "max");
  return usage;
}

}  // namespace airlock::sandbox
