#include "sandbox/cgroup_limits.h"

#include <utility>

namespace airlock::sandbox {
namespace {

// Where one limit goes, and when nowhere, both causes in one line.
std::optional<CgroupVersion> place(bool memory, bool pids, std::string& problem) {
  std::optional<std::string> v2 = CgroupV2Limits::unavailable_reason(memory, pids);
  if (!v2) return CgroupVersion::v2;
  std::optional<std::string> v1 = CgroupV1Limits::unavailable_reason(memory, pids);
  if (!v1) return CgroupVersion::v1;
  problem = "cgroup v2: " + *v2 + "; cgroup v1: " + *v1;
  return std::nullopt;
}

template <typename Limits>
Status add_to(const std::optional<Limits>& limits, pid_t pid) {
  return limits ? limits->add(pid) : ok_status();
}

}  // namespace

const char* layer_name(CgroupVersion version) {
  return version == CgroupVersion::v2 ? "cgroup-v2" : "cgroup-v1";
}

CgroupChoice choose_cgroups(bool need_memory, bool need_pids) {
  CgroupChoice choice;
  if (need_memory) choice.memory = place(true, false, choice.memory_problem);
  if (need_pids) choice.pids = place(false, true, choice.pids_problem);
  return choice;
}

Result<CgroupLimits> CgroupLimits::create(const std::string& sandbox_id, const CgroupChoice& choice,
                                          std::optional<uint64_t> memory_bytes,
                                          std::optional<uint32_t> max_pids) {
  auto by = [](const std::optional<CgroupVersion>& placed, CgroupVersion version, auto limit) {
    return placed == version ? limit : decltype(limit){};
  };
  CgroupLimits limits;
  const auto v2_memory = by(choice.memory, CgroupVersion::v2, memory_bytes);
  const auto v2_pids = by(choice.pids, CgroupVersion::v2, max_pids);
  if (v2_memory || v2_pids) {
    Result<CgroupV2Limits> v2 = CgroupV2Limits::create(sandbox_id, v2_memory, v2_pids);
    if (!v2) return v2.error();
    limits.v2_.emplace(std::move(v2).value());
  }
  const auto v1_memory = by(choice.memory, CgroupVersion::v1, memory_bytes);
  const auto v1_pids = by(choice.pids, CgroupVersion::v1, max_pids);
  if (v1_memory || v1_pids) {
    Result<CgroupV1Limits> v1 = CgroupV1Limits::create(sandbox_id, v1_memory, v1_pids);
    if (!v1) return v1.error();
    limits.v1_.emplace(std::move(v1).value());
  }
  return limits;
}

Status CgroupLimits::add(pid_t pid) const {
  if (Status added = add_to(v2_, pid); !added) return added;
  return add_to(v1_, pid);
}

CgroupUsage CgroupLimits::usage() const {
  // Each counter comes from the one version that holds its limit.
  CgroupUsage v2 = v2_ ? v2_->usage() : CgroupUsage{};
  CgroupUsage v1 = v1_ ? v1_->usage() : CgroupUsage{};
  CgroupUsage usage;
  usage.peak_memory_bytes = v2.peak_memory_bytes ? v2.peak_memory_bytes : v1.peak_memory_bytes;
  usage.memory_limit_hits = v2.memory_limit_hits + v1.memory_limit_hits;
  usage.oom_kills = v2.oom_kills + v1.oom_kills;
  usage.pids_limit_hits = v2.pids_limit_hits + v1.pids_limit_hits;
  return usage;
}

Status CgroupLimits::remove() {
  Status v2 = v2_ ? v2_->remove() : ok_status();
  v1_.reset();
  return v2;
}

}  // namespace airlock::sandbox
