// What this kernel offers, probed once by the supervisor before anything is started, so that a
// missing layer is reported up front instead of discovered half-way.
#pragma once

namespace airlock::sandbox {

int landlock_abi_version();  // 0 when Landlock is not available
int last_capability();       // /proc/sys/kernel/cap_last_cap

}  // namespace airlock::sandbox
