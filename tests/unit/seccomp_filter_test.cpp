// The seccomp filters, installed for real in a forked child that then tries the syscalls of
// THREATS.md "From inside the sandbox". Where the kernel could give the same answer as the
// filter, the probe is also run unfiltered (the control) to show the filter made the difference.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "seccomp/default_filter.h"
#include "seccomp/exec_minimum.h"
#include "seccomp/filter_builder.h"

namespace airlock::seccomp {
namespace {

using Program = std::vector<sock_filter>;

constexpr int kSetupFailed = 111;  // the child could not install the filters
constexpr int kProbeThrew = 112;

// What the child reports back: a list of numbers written to a pipe, plus how it ended.
struct ChildOutcome {
  int status = 0;
  std::vector<int64_t> reports;

  bool exited_with(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
  bool killed_by(int signal) const { return WIFSIGNALED(status) && WTERMSIG(status) == signal; }
  std::string describe() const {
    if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
    return "status " + std::to_string(status);
  }
};

class Reporter {
 public:
  explicit Reporter(int fd) : fd_(fd) {}
  void report(int64_t value) const {
    if (::write(fd_, &value, sizeof value) != static_cast<ssize_t>(sizeof value))
      _exit(kSetupFailed);
  }

 private:
  int fd_;
};

void install(const Program& program) {
  sock_fprog fprog{static_cast<unsigned short>(program.size()),
                   const_cast<sock_filter*>(program.data())};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) _exit(kSetupFailed);
}

// Forks; the child installs `filters` in order (after no_new_privs, as the sandbox does), runs
// `probe` and exits with its return value. A probe that hangs is killed by SIGALRM after 10 s.
// `prepare` runs in the child before the filters.
ChildOutcome run_in_child(const std::vector<const Program*>& filters,
                          const std::function<int(const Reporter&)>& probe,
                          const std::function<void()>& prepare = {}) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    return {};
  }
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << strerror(errno);
    return {};
  }
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::alarm(10);
    if (prepare) prepare();
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kSetupFailed);
    for (const Program* filter : filters) install(*filter);
    int code = kProbeThrew;
    try {
      code = probe(Reporter(pipe_fds[1]));
    } catch (...) {
    }
    // Not _exit(): under ASan a call to a noreturn function first runs sigaltstack, which an
    // allowlist refuses. The raw syscall is not noreturn, so nothing runs before it.
    for (;;) ::syscall(SYS_exit_group, code);
  }
  ::close(pipe_fds[1]);
  ChildOutcome outcome;
  int64_t value = 0;
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], &value, sizeof value);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof value)) break;
    outcome.reports.push_back(value);
  }
  ::close(pipe_fds[0]);
  while (::waitpid(pid, &outcome.status, 0) < 0 && errno == EINTR) {
  }
  return outcome;
}

// 0 when the call succeeded, otherwise its errno.
int64_t outcome_of(long rc) {
  return rc < 0 ? errno : 0;
}

// Runs one call in a filtered (or, with no filters, unfiltered) child; returns 0 or its errno.
int64_t try_call(const std::vector<const Program*>& filters, const std::function<long()>& call) {
  ChildOutcome outcome = run_in_child(filters, [&](const Reporter& reporter) {
    errno = 0;
    long rc = call();
    reporter.report(outcome_of(rc));
    return 0;
  });
  EXPECT_TRUE(outcome.exited_with(0)) << outcome.describe();
  if (outcome.reports.size() != 1) {
    ADD_FAILURE() << "child reported nothing (" << outcome.describe() << ")";
    return -1;
  }
  return outcome.reports[0];
}

std::string errno_name(int64_t value) {
  if (value == 0) return "success";
  if (value < 0) return "no report";
  const char* name = strerrordesc_np(static_cast<int>(value));
  return std::string(strerrorname_np(static_cast<int>(value))
                         ? strerrorname_np(static_cast<int>(value))
                         : "?") +
         " (" + (name ? name : "?") + ")";
}

class SeccompFilter : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<Program> built = build_default_filter();
    ASSERT_TRUE(built) << built.error().message;
    default_filter_ = new Program(std::move(built).value());
  }
  static void TearDownTestSuite() {
    delete default_filter_;
    default_filter_ = nullptr;
  }

  // Expects `call` to fail with `expected` under the default filter, and (the control) a
  // different result without it, so the filter and not the kernel decided.
  static void expect_filtered(const std::string& what, int expected,
                              const std::function<long()>& call) {
    int64_t filtered = try_call({default_filter_}, call);
    EXPECT_EQ(filtered, expected) << what << " under the default filter gave "
                                  << errno_name(filtered) << ", expected " << errno_name(expected);
    expect_kernel_differs(what, expected, try_call({}, call));
  }
  // Without privileges the kernel itself refuses several of these probes (CAP_NET_RAW,
  // CAP_SYS_ADMIN, ...), so the control only has to differ when the tests run as root (as CI does).
  static void expect_kernel_differs(const std::string& what, int64_t expected, int64_t unfiltered) {
    if (unfiltered == expected && ::geteuid() != 0) {
      std::printf("note: %s: control inconclusive without root (%s)\n", what.c_str(),
                  errno_name(unfiltered).c_str());
      return;
    }
    EXPECT_NE(unfiltered, expected)
        << what << ": without the filter the kernel already gives " << errno_name(unfiltered)
        << ", so this probe cannot tell whether the filter works";
  }
  static void expect_allowed(const std::string& what, const std::function<long()>& call) {
    int64_t filtered = try_call({default_filter_}, call);
    EXPECT_EQ(filtered, 0) << what << " under the default filter gave " << errno_name(filtered);
  }

  static Program* default_filter_;
};

Program* SeccompFilter::default_filter_ = nullptr;

// The i386 getpid (20) through the 32-bit entry point, from 64-bit code.
long int80_getpid() {
  long result = 20;
  __asm__ __volatile__("int $0x80" : "+a"(result) : : "memory", "r8", "r9", "r10", "r11");
  return result;
}

// clone3's struct clone_args, version 0 (64 bytes), without <linux/sched.h>'s clashes.
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

// Creates a process (child exits at once) and reaps it; the syscall's result as usual.
long reap(long rc) {
  if (rc == 0) _exit(0);
  if (rc > 0) ::waitpid(static_cast<pid_t>(rc), nullptr, __WALL);
  return rc;
}

// ---------------------------------------------------------------------------------------------

TEST(SeccompNames, EveryDeniedSyscallExistsOnX86_64) {
  const std::vector<std::string>& denied = default_denied_syscalls();
  ASSERT_FALSE(denied.empty());
  std::set<std::string> unique(denied.begin(), denied.end());
  EXPECT_EQ(unique.size(), denied.size()) << "a syscall is listed twice";
  for (const std::string& name : denied) {
    int number = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
    // A negative number is libseccomp's pseudo-syscall for "not on this architecture": a rule
    // for it would silently match nothing.
    EXPECT_GE(number, 0) << name << " does not resolve on x86_64";
  }
  for (const char* name : {"io_uring_setup", "unshare", "ptrace", "bpf", "setns", "mount"}) {
    EXPECT_THAT(denied, ::testing::Contains(name));
  }
}

TEST(SeccompNames, ExecMinimumExistsOnX86_64) {
  for (std::string_view name : kExecMinimum) {
    EXPECT_GE(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, std::string(name).c_str()), 0)
        << name;
  }
}

TEST(SeccompBuild, ProgramsFitTheKernelLimit) {
  Result<Program> built = build_default_filter();
  ASSERT_TRUE(built) << built.error().message;
  EXPECT_GT(built->size(), 10U);
  EXPECT_LE(built->size(), static_cast<size_t>(BPF_MAXINSNS));
  // Deterministic: the same policy compiles to the same program.
  Result<Program> again = build_default_filter();
  ASSERT_TRUE(again);
  ASSERT_EQ(again->size(), built->size());
  EXPECT_EQ(std::memcmp(again->data(), built->data(), built->size() * sizeof(sock_filter)), 0);
}

// The copy compiled at build time is what the filter builder compiles now, instruction for
// instruction: the run path uses the copy, the tests above exercise the builder.
TEST(SeccompBuild, CompiledDefaultFilterIsTheBuildersProgram) {
  Result<Program> built = build_default_filter();
  ASSERT_TRUE(built) << built.error().message;
  const std::span<const sock_filter> compiled = compiled_default_filter();
  ASSERT_EQ(compiled.size(), built->size());
  for (size_t i = 0; i < compiled.size(); ++i) {
    const sock_filter& a = compiled[i];
    const sock_filter& b = (*built)[i];
    EXPECT_TRUE(a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k)
        << "instruction " << i << " differs";
  }
}

TEST(SeccompBuild, AllowlistRejectsUnknownNames) {
  Result<Program> built = build_allowlist_filter({"read", "no_such_syscall"});
  ASSERT_FALSE(built);
  EXPECT_THAT(built.error().message, ::testing::HasSubstr("no_such_syscall"));
}

TEST_F(SeccompFilter, NormalSyscallsStillWork) {
  expect_allowed("getpid", [] { return ::syscall(SYS_getpid); });
  expect_allowed("open /dev/null", [] { return static_cast<long>(::open("/dev/null", O_RDONLY)); });
  expect_allowed("mmap", [] {
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? -1L : 0L;
  });
  expect_allowed("fork", [] { return reap(static_cast<long>(::fork())); });
  expect_allowed("clone without namespace flags",
                 [] { return reap(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)); });
  expect_allowed("FIONREAD on a pipe", [] {
    int fds[2];
    int available = 0;
    if (::pipe(fds) != 0) return -1L;
    return static_cast<long>(::ioctl(fds[0], FIONREAD, &available));
  });
}

TEST_F(SeccompFilter, ThreadsStillStartAfterClone3Fallback) {
  // glibc tries clone3 first and falls back to clone only on ENOSYS: EPERM here would break
  // every threaded program.
  ChildOutcome outcome = run_in_child({default_filter_}, [](const Reporter& reporter) {
    int value = 0;
    std::thread thread([&value] { value = 42; });
    thread.join();
    reporter.report(value);
    return 0;
  });
  EXPECT_TRUE(outcome.exited_with(0)) << outcome.describe();
  EXPECT_THAT(outcome.reports, ::testing::ElementsAre(42));
}

TEST_F(SeccompFilter, IoUringSetupIsRefused) {
  expect_filtered("io_uring_setup(1, params)", EPERM, [] {
    alignas(8) unsigned char params[120] = {};
    return ::syscall(SYS_io_uring_setup, 1, params);
  });
  expect_filtered("io_uring_enter", EPERM,
                  [] { return ::syscall(SYS_io_uring_enter, -1, 0, 0, 0, nullptr, 0); });
  expect_filtered("io_uring_register", EPERM,
                  [] { return ::syscall(SYS_io_uring_register, -1, 0, nullptr, 0); });
}

TEST_F(SeccompFilter, NewUserNamespaceIsRefused) {
  expect_filtered("unshare(CLONE_NEWUSER)", EPERM,
                  [] { return static_cast<long>(::unshare(CLONE_NEWUSER)); });
  expect_filtered("unshare(CLONE_NEWNS)", EPERM,
                  [] { return static_cast<long>(::unshare(CLONE_NEWNS)); });
}

TEST_F(SeccompFilter, CloneWithNamespaceFlagsIsRefused) {
  expect_filtered("clone(CLONE_NEWUSER|SIGCHLD)", EPERM,
                  [] { return reap(::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)); });
  for (unsigned long flag :
       {CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP}) {
    expect_filtered("clone(namespace flag " + std::to_string(flag) + ")", EPERM,
                    [flag] { return reap(::syscall(SYS_clone, flag | SIGCHLD, 0, 0, 0, 0)); });
  }
  // The kernel reads clone's flags as 32 bits; bits above must not hide the namespace flag.
  expect_filtered("clone(CLONE_NEWUSER|1<<32)", EPERM, [] {
    return reap(::syscall(SYS_clone, (1UL << 32) | CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
  });
}

TEST_F(SeccompFilter, Clone3IsNotImplemented) {
  expect_filtered("clone3(CLONE_NEWUSER)", ENOSYS, [] {
    CloneArgs args{};
    args.flags = CLONE_NEWUSER;
    args.exit_signal = SIGCHLD;
    return reap(::syscall(SYS_clone3, &args, sizeof args));
  });
  expect_filtered("clone3(plain)", ENOSYS, [] {
    CloneArgs args{};
    args.exit_signal = SIGCHLD;
    return reap(::syscall(SYS_clone3, &args, sizeof args));
  });
}

TEST_F(SeccompFilter, PacketAndVsockSocketsAreRefused) {
  expect_filtered("socket(AF_PACKET, SOCK_RAW)", EAFNOSUPPORT, [] {
    return static_cast<long>(::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
  });
  expect_filtered("socket(AF_VSOCK, SOCK_STREAM)", EAFNOSUPPORT,
                  [] { return static_cast<long>(::socket(AF_VSOCK, SOCK_STREAM, 0)); });
  expect_filtered("socketpair(AF_PACKET)", EAFNOSUPPORT, [] {
    int fds[2];
    return static_cast<long>(::socketpair(AF_PACKET, SOCK_RAW, 0, fds));
  });
  // The kernel reads the family as an int: upper bits must not smuggle AF_PACKET through.
  expect_filtered("socket((1<<32)|AF_PACKET) raw", EAFNOSUPPORT, [] {
    return ::syscall(SYS_socket, (1UL << 32) | AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  });
}

TEST_F(SeccompFilter, EveryUnusualFamilyIsRefusedBeforeTheKernelLooksAtIt) {
  // An invalid type flag (0x100) makes the kernel answer EINVAL before it looks at the family,
  // so EAFNOSUPPORT can only come from the filter.
  constexpr int kBadTypeFlag = 0x100;
  const std::set<int> allowed = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
  for (int family = 0; family < 64; ++family) {
    int64_t result = try_call({default_filter_}, [family] {
      return static_cast<long>(::socket(family, SOCK_STREAM | kBadTypeFlag, 0));
    });
    int64_t expected = allowed.count(family) != 0 ? EINVAL : EAFNOSUPPORT;
    EXPECT_EQ(result, expected) << "family " << family << ": " << errno_name(result);
  }
  EXPECT_EQ(
      try_call({},
               [] { return static_cast<long>(::socket(AF_VSOCK, SOCK_STREAM | kBadTypeFlag, 0)); }),
      EINVAL)
      << "the kernel no longer checks the type first; this test needs another control";
}

TEST_F(SeccompFilter, NetlinkOnlyAsRoute) {
  expect_filtered("socket(AF_NETLINK, NETLINK_SOCK_DIAG)", EPERM, [] {
    return static_cast<long>(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  });
  expect_filtered("socket(AF_NETLINK, NETLINK_AUDIT)", EPERM,
                  [] { return static_cast<long>(::socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)); });
  expect_filtered("socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)", EPERM, [] {
    return static_cast<long>(::socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT));
  });
  expect_filtered("socket(AF_NETLINK, NETLINK_NETFILTER)", EPERM, [] {
    return static_cast<long>(::socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER));
  });
  expect_allowed("socket(AF_NETLINK, NETLINK_ROUTE)", [] {
    return static_cast<long>(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  });
}

TEST_F(SeccompFilter, OrdinarySocketsWork) {
  expect_allowed("socket(AF_INET, SOCK_STREAM)",
                 [] { return static_cast<long>(::socket(AF_INET, SOCK_STREAM, 0)); });
  expect_allowed("socket(AF_INET, SOCK_DGRAM)",
                 [] { return static_cast<long>(::socket(AF_INET, SOCK_DGRAM, 0)); });
  expect_allowed("socket(AF_INET6, SOCK_STREAM)",
                 [] { return static_cast<long>(::socket(AF_INET6, SOCK_STREAM, 0)); });
  expect_allowed("socketpair(AF_UNIX)", [] {
    int fds[2];
    return static_cast<long>(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
  });
}

// A pseudo-terminal pair; the slave is what an agent's controlling terminal would be.
int open_pty_slave() {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) return -1;
  const char* name = ::ptsname(master);
  return name != nullptr ? ::open(name, O_RDWR | O_NOCTTY) : -1;
}

TEST_F(SeccompFilter, TerminalInjectionIsRefused) {
  // Unfiltered, root can push a byte into the pty's input: the control shows the probe works.
  expect_filtered("ioctl(pty, TIOCSTI)", EPERM, [] {
    int slave = open_pty_slave();
    if (slave < 0) return -1L;
    char c = 'x';
    return static_cast<long>(::ioctl(slave, TIOCSTI, &c));
  });
  // CVE-2017-5226 class: the kernel truncates the request to 32 bits, so a filter comparing
  // all 64 would let TIOCSTI|(1<<32) through.
  expect_filtered("ioctl(pty, TIOCSTI|1<<32) raw", EPERM, [] {
    int slave = open_pty_slave();
    if (slave < 0) return -1L;
    char c = 'x';
    return ::syscall(SYS_ioctl, slave, static_cast<unsigned long>(TIOCSTI) | (1UL << 32), &c);
  });
  // The same on a non-terminal: the kernel would say ENOTTY, so EPERM is the filter's answer
  // whoever runs the test.
  expect_filtered("ioctl(/dev/null, TIOCSTI|1<<32) raw", EPERM, [] {
    int fd = ::open("/dev/null", O_RDWR);
    char c = 'x';
    return ::syscall(SYS_ioctl, fd, static_cast<unsigned long>(TIOCSTI) | (1UL << 32), &c);
  });
  expect_filtered("ioctl(/dev/null, TIOCLINUX)", EPERM, [] {
    int fd = ::open("/dev/null", O_RDWR);
    char subcode = 0;
    return ::syscall(SYS_ioctl, fd, static_cast<unsigned long>(TIOCLINUX) | (1UL << 33), &subcode);
  });
  expect_allowed("ioctl(pty, TIOCGWINSZ)", [] {
    int slave = open_pty_slave();
    winsize size{};
    return slave < 0 ? -1L : static_cast<long>(::ioctl(slave, TIOCGWINSZ, &size));
  });
}

TEST_F(SeccompFilter, PersonalityQueryWorksButDangerousBitsAreRefused) {
  expect_allowed("personality(0xffffffff)",
                 [] { return static_cast<long>(::personality(0xffffffff)); });
  expect_allowed("personality(PER_LINUX)",
                 [] { return static_cast<long>(::personality(PER_LINUX)); });
  expect_filtered("personality(READ_IMPLIES_EXEC)", EPERM,
                  [] { return static_cast<long>(::personality(READ_IMPLIES_EXEC)); });
  expect_filtered("personality(MMAP_PAGE_ZERO)", EPERM,
                  [] { return static_cast<long>(::personality(MMAP_PAGE_ZERO)); });
  expect_filtered("personality(ADDR_COMPAT_LAYOUT)", EPERM,
                  [] { return static_cast<long>(::personality(ADDR_COMPAT_LAYOUT)); });
  expect_filtered("personality(ADDR_LIMIT_3GB)", EPERM,
                  [] { return static_cast<long>(::personality(ADDR_LIMIT_3GB)); });
  expect_filtered("personality((1<<32)|READ_IMPLIES_EXEC) raw", EPERM,
                  [] { return ::syscall(SYS_personality, (1UL << 32) | READ_IMPLIES_EXEC); });
}

// The kernel treats only the exact value 0xffffffff as a query; any other value with bit 31
// set is stored as the new personality. So READ_IMPLIES_EXEC|0x80000000 must be refused too.
TEST_F(SeccompFilter, PersonalityBit31DoesNotSmuggleReadImpliesExec) {
  ChildOutcome outcome = run_in_child({default_filter_}, [](const Reporter& reporter) {
    errno = 0;
    long rc = ::syscall(SYS_personality, 0x80000000UL | READ_IMPLIES_EXEC);
    reporter.report(outcome_of(rc));
    unsigned long now = static_cast<unsigned long>(::personality(0xffffffff));
    reporter.report((now & READ_IMPLIES_EXEC) != 0 ? 1 : 0);
    // The consequence: a PROT_READ mapping becomes executable.
    void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char line[512];
    char wanted[32];
    std::snprintf(wanted, sizeof wanted, "%lx-", reinterpret_cast<unsigned long>(page));
    int executable = 0;
    if (FILE* maps = std::fopen("/proc/self/maps", "r")) {
      while (std::fgets(line, sizeof line, maps) != nullptr) {
        if (std::strncmp(line, wanted, std::strlen(wanted)) != 0) continue;
        const char* perms = std::strchr(line, ' ');
        executable = perms != nullptr && perms[3] == 'x' ? 1 : 0;
      }
      std::fclose(maps);
    }
    reporter.report(executable);
    return 0;
  });
  ASSERT_TRUE(outcome.exited_with(0)) << outcome.describe();
  ASSERT_EQ(outcome.reports.size(), 3U);
  EXPECT_EQ(outcome.reports[0], EPERM)
      << "personality(READ_IMPLIES_EXEC|0x80000000) gave " << errno_name(outcome.reports[0]);
  EXPECT_EQ(outcome.reports[1], 0) << "READ_IMPLIES_EXEC is now set in the personality";
  EXPECT_EQ(outcome.reports[2], 0) << "a PROT_READ mapping became executable";
}

// Control for the 32-bit ABI checks: does this kernel run i386 syscalls from 64-bit code (IA32
// emulation) at all? Without a filter int 0x80 must be a working getpid, or the check is moot.
std::optional<std::string> int80_unavailable() {
  ChildOutcome control = run_in_child({}, [](const Reporter& reporter) {
    reporter.report(int80_getpid() == ::getpid() ? 1 : 0);
    return 0;
  });
  if (control.exited_with(0) && control.reports == std::vector<int64_t>{1}) return std::nullopt;
  return "int 0x80 does not work here even without a filter (" + control.describe() +
         "); IA32 emulation is off";
}

TEST_F(SeccompFilter, ThirtyTwoBitAbiKillsTheProcess) {
  // Control: this kernel runs i386 syscalls from 64-bit code (IA32 emulation), so without the
  // filter int 0x80 is a working getpid.
  if (std::optional<std::string> why = int80_unavailable()) GTEST_SKIP() << *why;
  ChildOutcome filtered = run_in_child({default_filter_}, [](const Reporter& reporter) {
    reporter.report(1);  // reached the probe
    reporter.report(int80_getpid());
    return 0;
  });
  EXPECT_TRUE(filtered.killed_by(SIGSYS)) << filtered.describe();
  EXPECT_THAT(filtered.reports, ::testing::ElementsAre(1));
}

// Every syscall on the deny list answers EPERM. Arguments are all invalid (-1), so even an
// unfiltered call would fail harmlessly; setsid first so vhangup has no terminal to hang up.
TEST_F(SeccompFilter, EveryDeniedSyscallAnswersEperm) {
  std::vector<int> numbers;
  for (const std::string& name : default_denied_syscalls()) {
    numbers.push_back(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str()));
  }
  ChildOutcome outcome = run_in_child({default_filter_}, [&numbers](const Reporter& reporter) {
    ::setsid();
    for (int number : numbers) {
      errno = 0;
      long rc = number < 0 ? 0 : ::syscall(number, -1L, -1L, -1L, -1L, -1L, -1L);
      reporter.report(outcome_of(rc));
    }
    return 0;
  });
  ASSERT_TRUE(outcome.exited_with(0)) << outcome.describe();
  ASSERT_EQ(outcome.reports.size(), numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i) {
    EXPECT_EQ(outcome.reports[i], EPERM)
        << default_denied_syscalls()[i] << " gave " << errno_name(outcome.reports[i]);
  }
  // Controls for the ones whose unfiltered answer to these arguments is certainly not EPERM.
  for (const char* name : {"unshare", "setns", "mount", "bpf", "ptrace", "keyctl", "userfaultfd",
                           "io_uring_setup", "pidfd_getfd", "open_tree"}) {
    int number = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
    expect_kernel_differs(name, EPERM, try_call({}, [number] {
                            return ::syscall(number, -1L, -1L, -1L, -1L, -1L, -1L);
                          }));
  }
}

// ---------------------------------------------------------------------------------------------
// Explicit allowlists

std::vector<std::string> exec_minimum_plus(std::initializer_list<const char*> extra,
                                           const std::string& without = "") {
  std::vector<std::string> names;
  for (std::string_view name : kExecMinimum) {
    if (name != without) names.emplace_back(name);
  }
  for (const char* name : extra) names.emplace_back(name);
  return names;
}

// Execs /bin/true. The pipe is close-on-exec, so a report means execve itself failed.
int exec_true(const Reporter& reporter) {
  char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
  char* const envp[] = {nullptr};
  ::execve("/bin/true", argv, envp);
  reporter.report(errno);
  return 126;
}

// The child silences stderr first: ld.so complains when it cannot start the program.
ChildOutcome run_true_under(const std::vector<const Program*>& filters) {
  return run_in_child(filters, exec_true, [] {
    int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDERR_FILENO);
  });
}

TEST_F(SeccompFilter, ExecMinimumAllowlistStartsBinTrue) {
  Result<Program> allowlist = build_allowlist_filter(exec_minimum_plus({"write"}));
  ASSERT_TRUE(allowlist) << allowlist.error().message;
  // As the sandbox does it: the default filter, then the allowlist stacked on top.
  ChildOutcome stacked = run_true_under({default_filter_, &allowlist.value()});
  EXPECT_TRUE(stacked.exited_with(0))
      << "/bin/true under default+allowlist: " << stacked.describe();
  ChildOutcome alone = run_true_under({&allowlist.value()});
  EXPECT_TRUE(alone.exited_with(0)) << "/bin/true under the allowlist alone: " << alone.describe();
}

TEST_F(SeccompFilter, AllowlistWithoutMmapCannotStartBinTrue) {
  Result<Program> allowlist = build_allowlist_filter(exec_minimum_plus({"write"}, "mmap"));
  ASSERT_TRUE(allowlist) << allowlist.error().message;
  ChildOutcome outcome = run_true_under({default_filter_, &allowlist.value()});
  EXPECT_FALSE(outcome.exited_with(0)) << "/bin/true started without mmap";
  // It got as far as the exec: the failure is ld.so's, not execve's.
  EXPECT_TRUE(outcome.reports.empty()) << "execve failed with " << errno_name(outcome.reports[0]);
  std::printf("note: /bin/true without mmap: %s\n", outcome.describe().c_str());
}

TEST_F(SeccompFilter, AllowlistRefusesTheRestWithEpermAndKeepsArgumentRules) {
  Result<Program> allowlist = build_allowlist_filter(exec_minimum_plus({"write", "socket"}));
  ASSERT_TRUE(allowlist) << allowlist.error().message;
  std::vector<const Program*> both = {default_filter_, &allowlist.value()};
  // (Raw syscall: glibc's getpid() returns the kernel's -EPERM as -1 without setting errno.)
  EXPECT_EQ(try_call(both, [] { return ::syscall(SYS_getpid); }), EPERM);
  EXPECT_EQ(try_call(both, [] { return ::syscall(SYS_getuid); }), EPERM);
  EXPECT_EQ(try_call(both, [] { return ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); }), 0);
  // socket is on the allowlist, but the default filter underneath still refuses AF_PACKET.
  EXPECT_EQ(try_call(both, [] { return ::syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0); }),
            EAFNOSUPPORT);
  // And the 32-bit ABI is fatal in the allowlist alone too (where the kernel runs it at all).
  if (std::optional<std::string> why = int80_unavailable()) {
    std::printf("note: %s\n", why->c_str());
    return;
  }
  ChildOutcome int80 = run_in_child({&allowlist.value()}, [](const Reporter&) {
    int80_getpid();
    return 0;
  });
  EXPECT_TRUE(int80.killed_by(SIGSYS)) << int80.describe();
}

}  // namespace
}  // namespace airlock::seccomp
