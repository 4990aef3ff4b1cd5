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

// Creates `slot` with the limits that `choice` gives to `version`, if any.
template <typename Limits>
Status create_placed(std::optional<Limits>& slot, CgroupVersion version, const CgroupChoice& choice,
                     const std::string& sandbox_id, std::optional<uint64_t> memory_bytes,
                     std::optional<uint32_t> max_pids) {
  const std::optional<uint64_t> memory = choice.memory == version ? memory_bytes : std::nullopt;
  const std::optional<uint32_t> pids = choice.pids == version ? max_pids : std::nullopt;
  if (!memory && !pids) return ok_status();
  Result<Limits> created = Limits::create(sandbox_id, memory, pids);
  if (!created) return created.error();
  slot.emplace(std::move(created).value());
  return ok_status();
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
  CgroupLimits limits;
  if (Status made =
          create_placed(limits.v2_, CgroupVersion::v2, choice, sandbox_id, memory_bytes, max_pids);
      !made)
    return made.error();
  if (Status made =
          create_placed(limits.v1_, CgroupVersion::v1, choice, sandbox_id, memory_bytes, max_pids);
      !made)
    return made.error();
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
  Status v1 = v1_ ? v1_->remove() : ok_status();
  return v2 ? v1 : v2;
}

}  // namespace airlock::sandbox
