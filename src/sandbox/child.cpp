// pid 1 of the sandbox: sets the sandbox up in a fixed order (each step named in child_report.h),
// starts the agent as pid 2, then forwards signals to it and reaps orphans until it exits.
#include "sandbox/child.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/child_report.h"
#include "sandbox/exec_listener.h"

namespace airlock::sandbox {
namespace {

volatile pid_t g_agent_pid = 0;

void send_report(int fd, const Report& report) {
  ssize_t ignored = ::write(fd, &report, sizeof report);  // a dead reader is the supervisor's death
  (void)ignored;
}

[[noreturn]] void report_failure(const ChildContext& context, const Failure& failure) {
  send_report(context.report_write_fd,
              Report{ReportKind::setup_failed, failure.step, failure.error, failure.detail});
  ::_exit(125);
}

bool write_proc_file(const char* path, const char* text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const size_t length = std::strlen(text);
  const ssize_t written = ::write(fd, text, length);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return written == static_cast<ssize_t>(length);
}

// The supervisor could write these maps too, but the child would then wait for it: one wakeup
// on the start-up path. setgroups must be denied before an unprivileged gid_map is accepted.
bool map_own_identity(const ChildContext& context) {
  return write_proc_file("/proc/self/setgroups", "deny") &&
         write_proc_file("/proc/self/uid_map", context.own_uid_map) &&
         write_proc_file("/proc/self/gid_map", context.own_gid_map);
}

bool wait_for_go(const ChildContext& context) {
  char go = 0;
  for (;;) {
    ssize_t n = ::read(context.sync_read_fd, &go, 1);
    if (n == 1 && go == 'g') return true;
    if (n == 1) {
      errno = EPROTO;  // not a "go": the supervisor and we disagree on the order of messages
      return false;
    }
    if (n < 0 && errno == EINTR) continue;
    errno = n == 0 ? EPIPE : errno;  // EOF: the supervisor is gone
    return false;
  }
}

// Closes every descriptor the caller leaked to us except the channels we own.
bool close_inherited(const ChildContext& context) {
  int keep[] = {context.sync_read_fd, context.report_write_fd};
  // Sorted, so the gaps between them can be closed with close_range.
  if (keep[1] < keep[0]) {
    int swap = keep[0];
    keep[0] = keep[1];
    keep[1] = swap;
  }
  unsigned int next = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) continue;
    if (static_cast<unsigned int>(fd) > next && ::syscall(SYS_close_range, next, fd - 1, 0) != 0)
      return false;
    next = static_cast<unsigned int>(fd) + 1;
  }
  return ::syscall(SYS_close_range, next, ~0U, 0) == 0;
}

bool bring_up_loopback() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct ifreq request {};
  ::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

// Started by root, the namespaces above were created by real root (so the sandbox user owns
// none of them); last, we join the user namespace the supervisor made, which maps only the
// sandbox uid/gid (user_namespace.h).
bool become_sandbox_user(const ChildContext& context, Failure& failure) {
  const LaunchPlan& plan = *context.plan;
  if (!plan.started_by_root) return true;
  if (context.user_namespaces == nullptr) {  // the supervisor sets it whenever started by root
    failure = Failure{Step::user_namespace, EINVAL, -1};
    return false;
  }
  ReceivedUserNamespaces& passed = *context.user_namespaces;
  if (!receive_user_namespaces(context.sync_read_fd, passed) ||
      ::setns(passed.sandbox_user_fd, CLONE_NEWUSER) != 0) {
    failure = Failure{Step::user_namespace, errno, -1};
    return false;
  }
  ::close(passed.sandbox_user_fd);
  if (::setgroups(0, nullptr) != 0 ||
      ::setresgid(plan.sandbox_gid, plan.sandbox_gid, plan.sandbox_gid) != 0 ||
      ::setresuid(plan.sandbox_uid, plan.sandbox_uid, plan.sandbox_uid) != 0) {
    failure = Failure{Step::identity, errno, -1};
    return false;
  }
  return true;
}

bool set_rlimits(const ChildContext& context) {
  const LaunchPlan& plan = *context.plan;
  const rlimit no_core{0, 0};  // a core file could carry the agent's memory out of the sandbox
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) return false;
  if (context.process_rlimit > 0) {
    // RLIMIT_NPROC is counted per user namespace (Linux >= 5.14): in our fresh one it caps the
    // sandbox's own tasks, a pids limit that needs no cgroup.
    const rlimit pids{context.process_rlimit, context.process_rlimit};
    if (::setrlimit(RLIMIT_NPROC, &pids) != 0) return false;
  }
  if (plan.max_open_files) {
    const rlimit files{*plan.max_open_files, *plan.max_open_files};
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0) return false;
  }
  return true;
}

bool supervisor_alive(const ChildContext& context) {
  pollfd poll_fd{context.sync_read_fd, POLLIN, 0};
  return ::poll(&poll_fd, 1, 0) == 0;  // no data and no hang-up: the supervisor holds its end
}

void forward_signal(int signal, siginfo_t* info, void*) {
  // Terminal-generated signals (SI_KERNEL) already reach the agent's process group directly.
  if (info != nullptr && info->si_code == SI_KERNEL) return;
  pid_t agent = g_agent_pid;
  if (agent > 0) ::kill(agent, signal);
}

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void install_forwarders() {
  struct sigaction action {};
  action.sa_sigaction = forward_signal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal : kForwardedSignals) ::sigaction(signal, &action, nullptr);
}

// pid 2: the agent. Only the explicit allowlist filter is still to come, then exec.
[[noreturn]] void exec_agent(const ChildContext& context, int exec_report_fd) {
  const LaunchPlan& plan = *context.plan;
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal : kForwardedSignals) ::sigaction(signal, &default_action, nullptr);
  ::sigprocmask(SIG_SETMASK, &context.original_mask, nullptr);
  Failure failure;
  if (!install_seccomp(plan.seccomp_allowlist, failure)) {
    send_report(exec_report_fd, Report{ReportKind::setup_failed, failure.step, failure.error, -1});
    ::_exit(125);
  }
  int error = ENOENT;
  for (const std::string& candidate : plan.exec_candidates) {
    ::execve(candidate.c_str(), context.argv, context.envp);
    if (errno != ENOENT && errno != ENOTDIR) error = errno;  // e.g. EACCES: remember, keep looking
  }
  send_report(exec_report_fd, Report{ReportKind::setup_failed, Step::exec, error, -1});
  ::_exit(error == ENOENT ? 127 : 126);
}

struct AgentStart {
  const ChildContext* context;
  int exec_report_fd;
};

int start_agent(void* argument) {
  const auto* start = static_cast<const AgentStart*>(argument);
  exec_agent(*start->context, start->exec_report_fd);
}

[[noreturn]] void supervise_agent(const ChildContext& context) {
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0)
    report_failure(context, Failure{Step::start_agent, errno, -1});
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);  // no forwarded signal before g_agent_pid is set
  install_forwarders();
  // As posix_spawn does: the agent borrows our memory until it execs (CLONE_VM | CLONE_VFORK;
  // we wait meanwhile), so no page tables are copied only to be replaced by the exec. On its own
  // stack it only resets signals, installs a prepared filter and execs, touching nothing of ours;
  // its signal handlers are its own copy (no CLONE_SIGHAND).
  alignas(16) static char agent_stack[64 * 1024];
  AgentStart start{&context, exec_pipe[1]};
  pid_t agent = ::clone(start_agent, agent_stack + sizeof agent_stack,
                        CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  if (agent < 0) report_failure(context, Failure{Step::start_agent, errno, -1});
  g_agent_pid = agent;
  ::close(exec_pipe[1]);
  ::sigprocmask(SIG_SETMASK, &context.original_mask, nullptr);

  Report exec_report{};
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &exec_report, sizeof exec_report);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof exec_report)) {
    send_report(context.report_write_fd, exec_report);
  } else {
    send_report(context.report_write_fd, Report{ReportKind::started, Step::none, 0, agent});
  }

  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid == agent) {
      send_report(context.report_write_fd, Report{ReportKind::exited, Step::none, 0, status});
      // The agent's status becomes ours; everything else in the namespace dies with us.
      ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    if (pid < 0) ::_exit(125);
  }
}

}  // namespace

[[noreturn]] void run_child(const ChildContext& context) {
  // Our copy of the supervisor's memory: its secrets go first (explicit_bzero is never elided).
  for (size_t i = 0; i < context.secret_count; ++i)
    ::explicit_bzero(context.secrets[i].data, context.secrets[i].size);
  const LaunchPlan& plan = *context.plan;
  Failure failure;
  if (!close_inherited(context))
    report_failure(context, Failure{Step::close_inherited_fds, errno, -1});
  if (context.own_uid_map != nullptr && !map_own_identity(context))
    report_failure(context, Failure{Step::own_identity_maps, errno, -1});
  if (!build_mount_tree(context, failure)) report_failure(context, failure);
  // Taken at the workspace step already, unless the view has none; before any "go" in any case.
  if (context.user_namespaces != nullptr &&
      !receive_user_namespaces(context.sync_read_fd, *context.user_namespaces)) {
    report_failure(context, Failure{Step::user_namespace, errno, -1});
  }
  if (context.user_namespaces != nullptr && context.user_namespaces->idmap_fd >= 0)
    ::close(context.user_namespaces->idmap_fd);
  if (::sethostname("airlock", 7) != 0) report_failure(context, Failure{Step::hostname, errno, -1});
  if (!bring_up_loopback()) report_failure(context, Failure{Step::loopback, errno, -1});
  // The supervisor moves us into our cgroups (a cgroup v1 attach can wait ~10 ms for RCU) and
  // installs the egress capture in our network namespace while we build the view above; the
  // sandbox then sees that cgroup as its root, and nothing runs before the capture is in place.
  if (context.wait_for_setup && !wait_for_go(context)) {
    report_failure(context, Failure{Step::wait_for_supervisor, errno, -1});
  }
  if (::unshare(CLONE_NEWCGROUP) != 0)
    report_failure(context, Failure{Step::cgroup_namespace, errno, -1});
  if (!become_sandbox_user(context, failure)) report_failure(context, failure);
  // Without a terminal, a new session means no controlling tty to inject into (TIOCSTI).
  // With one, the session is kept for job control and seccomp refuses TIOCSTI/TIOCLINUX.
  if (plan.new_session && ::setsid() < 0)
    report_failure(context, Failure{Step::session, errno, -1});
  if (!set_rlimits(context)) report_failure(context, Failure{Step::rlimits, errno, -1});
  if (!apply_landlock(context, failure)) report_failure(context, failure);
  if (!drop_capabilities(context, failure)) report_failure(context, failure);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    report_failure(context, Failure{Step::no_new_privs, errno, -1});
  // Our memory (and /proc/1/*) stays out of the agent's reach.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Set last: any credential change above would have cleared it.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || !supervisor_alive(context)) {
    report_failure(context, Failure{Step::parent_death_signal, errno, -1});
  }
  if (plan.watch_exec) {
    // Before the default filter, which refuses seccomp(2) to everything after it.
    const int listener = install_exec_listener();
    if (listener < 0 || !send_exec_listener(context.sync_read_fd, listener))
      report_failure(context, Failure{Step::seccomp, errno, -1});
    ::close(listener);  // the agent must never hold it
  }
  if (!install_seccomp(plan.seccomp_default, failure)) report_failure(context, failure);
  if (plan.session) serve_session(context);
  supervise_agent(context);
}

}  // namespace airlock::sandbox
