// Memory and processes in use inside a sandbox right now, for `airlock ps`: the processes of its
// pid namespace found in /proc (their resident memory summed), which needs no cgroup.
#pragma once

#include <nlohmann/json.hpp>

#include "egress/socket_owner.h"

namespace airlock::control {

// {"pids": N, "memory_bytes": RSS sum, "source": "proc"}. The init (host pid `init`) always
// counts as one process; an unprivileged supervisor cannot read its memory (it is undumpable).
nlohmann::json sandbox_usage(const egress::PidNamespaceId& sandbox, pid_t init);

}  // namespace airlock::control
