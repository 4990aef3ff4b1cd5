// The syscalls without which no dynamically linked program can even start: the kernel's
// execve, then ld.so mapping libc and glibc's start-up. Measured with strace on /bin/true.
// An explicit `syscalls:` allowlist missing any of these is a policy error, not a widening.
#pragma once

#include <array>
#include <string_view>

namespace airlock::seccomp {

inline constexpr std::array<std::string_view, 19> kExecMinimum = {
    "execve",
    "brk",
    "arch_prctl",
    "mmap",
    "munmap",
    "mprotect",
    "openat",
    "read",
    "close",
    "newfstatat",
    "pread64",
    "access",
    "set_tid_address",
    "set_robust_list",
    "rseq",
    "prlimit64",
    "getrandom",
    "exit_group",
    "fstat",
};

}  // namespace airlock::seccomp
