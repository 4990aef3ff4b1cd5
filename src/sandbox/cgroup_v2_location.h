// Where this process's cgroup v2 directory is: the cgroup2 mount (from /proc/self/mountinfo)
// joined with our "0::/path" line of /proc/self/cgroup. The parsers are pure for unit tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace airlock::sandbox {

// The mount point of the first cgroup2 filesystem in mountinfo text (octal escapes decoded).
std::optional<std::string> cgroup2_mount_point(const std::string& mountinfo);
// The cgroup v2 path ("0::/path") in /proc/PID/cgroup text.
std::optional<std::string> cgroup2_own_path(const std::string& proc_cgroup);
// The names in a cgroup.controllers or cgroup.subtree_control file.
std::vector<std::string> cgroup_controller_names(const std::string& text);

struct Cgroup2Location {
  std::string mount;  // "/sys/fs/cgroup" or, on hybrid hosts, "/sys/fs/cgroup/unified"
  std::string path;   // our cgroup inside it, "/" for the root cgroup
  std::string directory() const { return path == "/" ? mount : mount + path; }
};

// This process's cgroup v2, or why there is none.
Result<Cgroup2Location> locate_own_cgroup2();

}  // namespace airlock::sandbox
