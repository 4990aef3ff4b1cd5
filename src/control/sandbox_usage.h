// Memory and processes in use inside a sandbox right now, for `airlock ps`: the processes of its
// pid namespace found in /proc (their resident memory summed), which needs no cgroup.
#pragma once

#include <nlohmann/json.hpp>

#include "egress/socket_owner.h"

namespace airlock::control {

// {"pids": N, "memory_bytes": RSS sum, "source": "proc"}; the init counts as one process.
nlohmann::json sandbox_usage(const egress::PidNamespaceId& sandbox);

}  // namespace airlock::control
