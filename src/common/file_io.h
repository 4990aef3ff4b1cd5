// Small, explicit file helpers used by the supervisor (never by the child between clone and exec).
#pragma once

#include <string>

#include "common/result.h"

namespace airlock {

Result<std::string> read_file(const std::string& path);
// Writes the whole of `content` with one write(2), as /proc and cgroup files require.
Status write_file(const std::string& path, const std::string& content);

}  // namespace airlock
