#include "seccomp/filter_builder.h"

#include <linux/audit.h>
#include <linux/personality.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <memory>

#include "common/errno_text.h"
#include "common/unique_fd.h"

namespace airlock::seccomp {
namespace {

using Context = std::unique_ptr<void, decltype(&seccomp_release)>;

const std::vector<DeniedSyscalls> kDeniedSyscalls = {
    // io_uring performs connect/open/... without those syscalls passing this filter.
    {DeniedClass::io_uring, {"io_uring_setup", "io_uring_enter", "io_uring_register"}},
    // Namespaces and mounts: no new user namespace to regain capabilities, no mount games.
    {DeniedClass::namespaces_and_mounts,
     {"unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
      "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"}},
    // Other processes' memory.
    {DeniedClass::other_processes,
     {"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise", "kcmp"}},
    // Kernel attack surface and host observation.
    {DeniedClass::kernel_surface,
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
      "migrate_pages"}},
};

std::vector<std::string> flatten(const std::vector<DeniedSyscalls>& classes) {
  std::vector<std::string> names;
  for (const DeniedSyscalls& group : classes)
    names.insert(names.end(), group.names.begin(), group.names.end());
  return names;
}

// Address families a coding agent needs. Everything else (AF_PACKET, AF_VSOCK, AF_ALG, AF_XDP,
// AF_BLUETOOTH, ...) is refused before the kernel's family code runs.
constexpr int kAllowedFamilies[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
constexpr int kNetlinkRoute = 0;                // NETLINK_ROUTE: what getaddrinfo and `ip` need
constexpr scmp_datum_t kLow32 = 0xffffffffULL;  // the kernel reads int/unsigned int arguments only

constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWUSER,   CLONE_NEWNS,  CLONE_NEWPID,
                                             CLONE_NEWNET,    CLONE_NEWIPC, CLONE_NEWUTS,
                                             CLONE_NEWCGROUP, CLONE_NEWTIME};

// libseccomp's SCMP_A0..A5 macros are C99 compound literals; spell the struct out instead.
scmp_arg_cmp compare(unsigned int argument, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
  return scmp_arg_cmp{argument, op, a, b};
}

Result<Context> new_context(uint32_t default_action) {
  Context context(seccomp_init(default_action), seccomp_release);
  if (!context) return Error{"cannot create the seccomp filter: libseccomp out of memory"};
  // Any syscall made through another ABI (i386 via int 0x80, x32) kills the process instead of
  // slipping past rules written for x86_64 numbers.
  if (int rc = seccomp_attr_set(context.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc != 0) {
    return Error{"cannot set the seccomp bad-arch action: " + errno_text(-rc)};
  }
  return context;
}

Status add_rule(void* context, uint32_t action, const char* name,
                std::initializer_list<scmp_arg_cmp> args = {}) {
  int number = seccomp_syscall_resolve_name(name);
  if (number == __NR_SCMP_ERROR) return Error{std::string("unknown syscall ") + name};
  int rc = seccomp_rule_add_array(context, action, number, static_cast<unsigned>(args.size()),
                                  args.size() != 0 ? args.begin() : nullptr);
  if (rc != 0)
    return Error{std::string("cannot add the seccomp rule for ") + name + ": " + errno_text(-rc)};
  return ok_status();
}

Result<std::vector<sock_filter>> export_bpf(void* context) {
  UniqueFd memory(::memfd_create("airlock-seccomp", MFD_CLOEXEC));
  if (!memory.valid())
    return Error{"cannot create a memfd for the seccomp filter: " + errno_text(errno)};
  if (int rc = seccomp_export_bpf(context, memory.get()); rc != 0) {
    return Error{"cannot compile the seccomp filter: " + errno_text(-rc)};
  }
  off_t size = ::lseek(memory.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return Error{"the compiled seccomp filter has an unexpected size"};
  }
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(memory.get(), program.data(), static_cast<size_t>(size), 0) != size) {
    return Error{"cannot read back the compiled seccomp filter: " + errno_text(errno)};
  }
  return program;
}

Status add_socket_rules(void* context) {
  const uint32_t refuse = SCMP_ACT_ERRNO(EAFNOSUPPORT);
  for (int family = 0; family < 64; ++family) {
    bool allowed = false;
    for (int candidate : kAllowedFamilies) allowed = allowed || candidate == family;
    if (allowed) continue;
    for (const char* name : {"socket", "socketpair"}) {
      auto arg = compare(0, SCMP_CMP_MASKED_EQ, kLow32, static_cast<scmp_datum_t>(family));
      if (Status status = add_rule(context, refuse, name, {arg}); !status) return status;
    }
  }
  // AF_NETLINK only as NETLINK_ROUTE: no sock_diag, audit, netfilter or uevent sockets.
  auto netlink = compare(0, SCMP_CMP_MASKED_EQ, kLow32, static_cast<scmp_datum_t>(AF_NETLINK));
  auto not_route = compare(2, SCMP_CMP_NE, static_cast<scmp_datum_t>(kNetlinkRoute));
  return add_rule(context, SCMP_ACT_ERRNO(EPERM), "socket", {netlink, not_route});
}

// personality(2) needs "deny if a dangerous bit is set, unless the value is exactly the query
// 0xffffffff": two tests of one argument, which libseccomp cannot express. So this short,
// hand-written block runs first; for any other syscall it falls through to libseccomp's program.
// The kernel reads the argument as unsigned int: only the low 32 bits are compared.
std::vector<sock_filter> personality_guard() {
  constexpr uint32_t kDangerous =
      READ_IMPLIES_EXEC | MMAP_PAGE_ZERO | ADDR_COMPAT_LAYOUT | ADDR_LIMIT_3GB;
  constexpr uint32_t kArgument0Low = offsetof(seccomp_data, args[0]);  // little-endian low word
  return {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 7),  // else -> 9
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_personality, 0, 5),  // else -> 9
      /* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArgument0Low),
      /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffU, 2, 0),  // the query -> 8
      /* 6 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kDangerous, 0, 1),  // clean -> 8
      /* 7 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      /* 8 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* 9: libseccomp's program follows */
  };
}

}  // namespace

const std::vector<DeniedSyscalls>& default_denied_classes() {
  return kDeniedSyscalls;
}

const std::vector<std::string>& default_denied_syscalls() {
  static const std::vector<std::string> names = flatten(kDeniedSyscalls);
  return names;
}

Result<std::vector<sock_filter>> build_default_filter() {
  Result<Context> context = new_context(SCMP_ACT_ALLOW);
  if (!context) return context.error();
  void* ctx = context->get();
  const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
  for (const std::string& name : default_denied_syscalls()) {
    if (Status status = add_rule(ctx, deny, name.c_str()); !status) return status.error();
  }
  // clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to
  // clone(2), whose flags the rules below can see.
  if (Status status = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3"); !status)
    return status.error();
  for (unsigned long flag : kNamespaceFlags) {
    auto arg = compare(0, SCMP_CMP_MASKED_EQ, flag, flag);
    if (Status status = add_rule(ctx, deny, "clone", {arg}); !status) return status.error();
  }
  // Terminal injection: TIOCSTI pushes input into the terminal, TIOCLINUX can do so on a VT.
  // Compare the low 32 bits only: the kernel ignores the rest (CVE-2017-5226 class of bypass).
  for (unsigned long request :
       {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    auto arg = compare(1, SCMP_CMP_MASKED_EQ, kLow32, request);
    if (Status status = add_rule(ctx, deny, "ioctl", {arg}); !status) return status.error();
  }
  if (Status status = add_socket_rules(ctx); !status) return status.error();
  Result<std::vector<sock_filter>> program = export_bpf(ctx);
  if (!program) return program;
  std::vector<sock_filter> guarded = personality_guard();
  guarded.insert(guarded.end(), program->begin(), program->end());
  return guarded;
}

Result<std::vector<sock_filter>> build_allowlist_filter(const std::vector<std::string>& names) {
  Result<Context> context = new_context(SCMP_ACT_ERRNO(EPERM));
  if (!context) return context.error();
  for (const std::string& name : names) {
    if (Status status = add_rule(context->get(), SCMP_ACT_ALLOW, name.c_str()); !status)
      return status.error();
  }
  return export_bpf(context->get());
}

}  // namespace airlock::seccomp
