// Reading and removing cgroup files and directories, the same in cgroup v1 and v2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"

namespace airlock::sandbox {

// A file holding one number ("memory.peak"); nullopt when absent or not a number.
std::optional<uint64_t> read_cgroup_number(const std::string& path);
// The value of `key` in a file of "key value" lines ("pids.events": "max 3"); 0 when absent.
uint64_t read_keyed_number(const std::string& path, const std::string& key);
// rmdir, waiting briefly for the processes still leaving it.
Status remove_cgroup(const std::string& dir);
// Removes the empty "airlock-*" cgroups under `parent` that supervisors killed by SIGKILL left.
void remove_abandoned_cgroups(const std::string& parent);

}  // namespace airlock::sandbox
