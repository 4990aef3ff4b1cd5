#include "explain/syscall_classes.h"

#include "seccomp/filter_builder.h"

namespace airlock::explain {

namespace {

// What each group of the default filter's refusals protects, and the rules that depend on
// arguments; the names come from the filter itself (seccomp/filter_builder.h).
SyscallClass describe(const seccomp::DeniedSyscalls& denied) {
  switch (denied.group) {
    case seccomp::DeniedClass::io_uring:
      return {
          "io_uring, which performs connect, open and the rest without those syscalls "
          "passing this filter (EPERM)",
          denied.names,
          {},
          {Layer::seccomp}};
    case seccomp::DeniedClass::namespaces_and_mounts:
      return {
          "new namespaces and mount changes: no user namespace to regain capabilities, no "
          "mount games (EPERM); clone3 answers ENOSYS, so libc falls back to clone, whose "
          "flags the filter reads",
          denied.names,
          {"clone(CLONE_NEW*)", "clone3"},
          {Layer::seccomp, Layer::capabilities}};
    case seccomp::DeniedClass::other_processes:
      return {"other processes' memory and descriptors (EPERM)",
              denied.names,
              {},
              {Layer::seccomp, Layer::namespaces}};
    case seccomp::DeniedClass::kernel_surface:
      return {
          "kernel attack surface and host observation: BPF, perf, keyrings, userfaultfd, "
          "kexec, modules, file handles, fanotify, accounting, swap, reboot, the kernel log, "
          "clocks, quotas, port I/O, NUMA policy (EPERM)",
          denied.names,
          {},
          {Layer::seccomp, Layer::capabilities}};
  }
  return {"other refusals (EPERM)", denied.names, {}, {Layer::seccomp}};
}

}  // namespace

const std::vector<SyscallClass>& syscall_classes() {
  static const std::vector<SyscallClass> kClasses = [] {
    std::vector<SyscallClass> classes;
    for (const seccomp::DeniedSyscalls& denied : seccomp::default_denied_classes())
      classes.push_back(describe(denied));
    return classes;
  }();
  return kClasses;
}

}  // namespace airlock::explain
