// Seccomp filters, compiled with libseccomp in the parent and exported as classic BPF, so the
// child only has to hand a prepared buffer to the kernel (no allocation after clone).
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace airlock::seccomp {

// The default filter: everything a normal program needs is allowed; the kernel interfaces an
// agent could use to escape, escalate or observe the host are refused with EPERM (see
// THREATS.md "From inside the sandbox"). Any other ABI (i386 int 0x80, x32) kills the process.
Result<std::vector<sock_filter>> build_default_filter();

// An explicit allowlist: only the named syscalls, everything else EPERM. Stacked on top of the
// default filter, so argument rules (ioctl TIOCSTI, socket families) still hold.
Result<std::vector<sock_filter>> build_allowlist_filter(const std::vector<std::string>& names);

// Syscalls the default filter refuses outright, for `airlock explain` and tests, grouped by what
// they protect, and flat.
enum class DeniedClass { io_uring, namespaces_and_mounts, other_processes, kernel_surface };
struct DeniedSyscalls {
  DeniedClass group;
  std::vector<std::string> names;
};
const std::vector<DeniedSyscalls>& default_denied_classes();
const std::vector<std::string>& default_denied_syscalls();

}  // namespace airlock::seccomp
