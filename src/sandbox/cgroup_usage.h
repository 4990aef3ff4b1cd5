// What the sandbox's cgroups counted, read by the supervisor at exit for the audit log.
#pragma once

#include <cstdint>
#include <optional>

namespace airlock::sandbox {

struct CgroupUsage {
  std::optional<uint64_t> peak_memory_bytes;
  uint64_t memory_limit_hits = 0;  // v1 memory.failcnt, v2 memory.events "max"
  uint64_t oom_kills = 0;
  uint64_t pids_limit_hits = 0;  // forks refused at pids.max
};

}  // namespace airlock::sandbox
