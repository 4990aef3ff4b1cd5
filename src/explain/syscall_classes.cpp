#include "explain/syscall_classes.h"

namespace airlock::explain {

const std::vector<SyscallClass>& syscall_classes() {
  static const std::vector<SyscallClass> kClasses = {
      {"io_uring, which performs connect, open and the rest without those syscalls passing "
       "this filter (EPERM)",
       {"io_uring_setup", "io_uring_enter", "io_uring_register"},
       {},
       {Layer::seccomp}},
      {"new namespaces and mount changes: no user namespace to regain capabilities, no mount "
       "games (EPERM); clone3 answers ENOSYS, so libc falls back to clone, whose flags the filter "
       "reads",
       {"unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
        "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"},
       {"clone(CLONE_NEW*)", "clone3"},
       {Layer::seccomp, Layer::capabilities}},
      {"other processes' memory and descriptors (EPERM)",
       {"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise",
        "kcmp"},
       {},
       {Layer::seccomp, Layer::namespaces}},
      {"kernel attack surface and host observation: BPF, perf, keyrings, userfaultfd, kexec, "
       "modules, file handles, fanotify, accounting, swap, reboot, the kernel log, clocks, "
       "quotas, port I/O, NUMA policy (EPERM)",
       {"bpf",
        "perf_event_open",
        "keyctl",
        "add_key",
        "request_key",
        "userfaultfd",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "open_by_handle_at",
        "name_to_handle_at",
        "lookup_dcookie",
        "fanotify_init",
        "acct",
        "swapon",
        "swapoff",
        "reboot",
        "syslog",
        "settimeofday",
        "clock_settime",
        "clock_adjtime",
        "adjtimex",
        "quotactl",
        "quotactl_fd",
        "vhangup",
        "iopl",
        "ioperm",
        "uselib",
        "_sysctl",
        "nfsservctl",
        "mbind",
        "set_mempolicy",
        "move_pages",
        "migrate_pages"},
       {},
       {Layer::seccomp, Layer::capabilities}},
  };
  return kClasses;
}

}  // namespace airlock::explain
