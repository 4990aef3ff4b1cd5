// A session's init (pid 1 of the sandbox, fully confined, see child.cpp): instead of starting an
// agent it serves the supervisor's requests (session_channel.h). Each command is forked from
// here, so it is confined exactly like the init itself; only its three stdio descriptors come
// from outside, and they are the exec client's pipes, never a terminal of the host's.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "common/fd_message.h"
#include "sandbox/child.h"
#include "sandbox/session_channel.h"

namespace airlock::sandbox {
namespace {

// Nothing here allocates: requests land in static buffers sized by session_channel.h.
struct Command {
  uint32_t request_id = 0;
  pid_t pid = 0;  // 0: a free slot
};

struct ExecStart {
  const ChildContext* context;
  const char* cwd;
  char* const* argv;
  char* const* envp;
  std::array<int, 3> stdio;
  // Written by the child before it gives up (it shares our memory until it execs): 0 on success.
  int error;
  int step;
};

Command g_commands[kSessionCommandsMax];
bool g_stopping = false;  // after `terminate`: the init leaves once it has no process left
char g_strings[kSessionStringsMax + 1];
char* g_vectors[kSessionVectorMax + 2];  // argv, nullptr, environment, nullptr
char g_candidate[4096];
alignas(16) char g_exec_stack[64 * 1024];

void send_event(int fd, SessionEventKind kind, uint32_t request_id, int value, int step = 0) {
  SessionEvent event{kind, request_id, value, step};
  ssize_t ignored = ::send(fd, &event, sizeof event, MSG_NOSIGNAL);
  (void)ignored;  // a dead supervisor takes us with it (PDEATHSIG)
}

const char* find_path(char* const* envp) {
  for (char* const* entry = envp; *entry != nullptr; ++entry) {
    if (std::strncmp(*entry, "PATH=", 5) == 0) return *entry + 5;
  }
  return "/usr/local/bin:/usr/bin:/bin";
}

// execvpe(3) with the command's own PATH (glibc's searches the caller's), allocating nothing.
int exec_searching(char* const* argv, char* const* envp) {
  const char* name = argv[0];
  if (std::strchr(name, '/') != nullptr) {
    ::execve(name, argv, envp);
    return errno;
  }
  int error = ENOENT;
  const size_t name_length = std::strlen(name);
  const char* directory = find_path(envp);
  while (true) {
    const char* end = std::strchr(directory, ':');
    size_t length = end != nullptr ? static_cast<size_t>(end - directory) : std::strlen(directory);
    if (length == 0) {
      directory = ".";  // an empty PATH entry is the current directory
      length = 1;
    }
    if (length + 1 + name_length + 1 <= sizeof g_candidate) {
      std::copy_n(directory, length, g_candidate);
      g_candidate[length] = '/';
      std::memcpy(g_candidate + length + 1, name, name_length + 1);
      ::execve(g_candidate, argv, envp);
      if (errno != ENOENT && errno != ENOTDIR) error = errno;  // e.g. EACCES: keep looking
    }
    if (end == nullptr) break;
    directory = end + 1;
  }
  return error;
}

int start_command(void* argument) {
  auto* start = static_cast<ExecStart*>(argument);
  ::sigprocmask(SIG_SETMASK, &start->context->original_mask, nullptr);
  ::setpgid(0, 0);  // its own group: a timeout or a closed client signals the whole command
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(start->stdio[static_cast<size_t>(fd)], fd) < 0) {
      start->error = errno;
      start->step = 2;
      ::_exit(126);
    }
  }
  if (::chdir(start->cwd) != 0) {
    start->error = errno;
    start->step = 1;
    ::_exit(126);
  }
  Failure failure;
  if (!install_seccomp(start->context->plan->seccomp_allowlist, failure)) {
    start->error = failure.error;
    start->step = 2;
    ::_exit(126);
  }
  start->error = exec_searching(start->argv, start->envp);
  start->step = 2;
  ::_exit(start->error == ENOENT ? 127 : 126);
}

Command* free_slot() {
  for (Command& command : g_commands) {
    if (command.pid == 0) return &command;
  }
  return nullptr;
}

Command* find_command(uint32_t request_id) {
  for (Command& command : g_commands) {
    if (command.pid != 0 && command.request_id == request_id) return &command;
  }
  return nullptr;
}

// Splits the string block into cwd, argv and environment; false if it does not add up.
bool parse_strings(const SessionRequest& request, size_t received, const char*& cwd, char**& argv,
                   char**& envp) {
  if (request.strings_size != received || request.argc == 0 ||
      static_cast<size_t>(request.argc) + request.envc > kSessionVectorMax) {
    return false;
  }
  g_strings[received] = '\0';
  char* cursor = g_strings;
  char* const end = g_strings + received;
  auto next = [&]() -> char* {
    if (cursor >= end) return nullptr;
    char* text = cursor;
    cursor += std::strlen(cursor) + 1;
    return cursor <= end ? text : nullptr;
  };
  cwd = next();
  if (cwd == nullptr) return false;
  size_t slot = 0;
  argv = g_vectors;
  for (uint32_t i = 0; i < request.argc; ++i) {
    if ((g_vectors[slot++] = next()) == nullptr) return false;
  }
  g_vectors[slot++] = nullptr;
  envp = g_vectors + slot;
  for (uint32_t i = 0; i < request.envc; ++i) {
    if ((g_vectors[slot++] = next()) == nullptr) return false;
  }
  g_vectors[slot] = nullptr;
  return cursor == end;
}

void run_exec(const ChildContext& context, const SessionRequest& request, size_t strings_size,
              const std::array<int, 3>& stdio) {
  const int channel = context.sync_read_fd;
  const char* cwd = nullptr;
  char** argv = nullptr;
  char** envp = nullptr;
  Command* slot = free_slot();
  if (slot == nullptr) {
    send_event(channel, SessionEventKind::failed, request.request_id, EAGAIN, 3);
    return;
  }
  if (!parse_strings(request, strings_size, cwd, argv, envp)) {
    send_event(channel, SessionEventKind::failed, request.request_id, EINVAL, 4);
    return;
  }
  // As the agent is started (child.cpp): the command borrows our memory until it execs.
  ExecStart start{&context, cwd, argv, envp, stdio, 0, 0};
  const pid_t pid = ::clone(start_command, g_exec_stack + sizeof g_exec_stack,
                            CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  if (pid < 0) {
    send_event(channel, SessionEventKind::failed, request.request_id, errno, 2);
    return;
  }
  if (start.error != 0) {  // it exited without exec; reaped below like any orphan
    send_event(channel, SessionEventKind::failed, request.request_id, start.error, start.step);
    return;
  }
  *slot = Command{request.request_id, pid};
  send_event(channel, SessionEventKind::started, request.request_id, pid);
}

void reap(const ChildContext& context);

void on_request(const ChildContext& context) {
  SessionRequest request{};
  iovec parts[2] = {{&request, sizeof request}, {g_strings, kSessionStringsMax}};
  FdMessage<3> message(&request, sizeof request);
  message.message.msg_iov = parts;
  message.message.msg_iovlen = 2;
  ssize_t n = ::recvmsg(context.sync_read_fd, &message.message, MSG_CMSG_CLOEXEC);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) ::_exit(0);  // the supervisor closed the channel: the session is over
  std::array<int, 3> stdio{-1, -1, -1};
  const bool has_stdio = message.take(stdio);
  const bool whole = static_cast<size_t>(n) >= sizeof request;
  if (whole && request.kind == SessionRequestKind::exec && has_stdio) {
    run_exec(context, request, static_cast<size_t>(n) - sizeof request, stdio);
  } else if (whole && request.kind == SessionRequestKind::signal) {
    if (Command* command = find_command(request.request_id)) ::kill(-command->pid, request.signal);
  } else if (whole && request.kind == SessionRequestKind::terminate) {
    ::kill(-1, request.signal);  // from pid 1: every process of the namespace but us
    g_stopping = true;
    reap(context);
  } else {  // short, unknown, or an exec without its three descriptors
    send_event(context.sync_read_fd, SessionEventKind::failed, request.request_id, EINVAL, 4);
  }
  if (has_stdio) {
    for (int fd : stdio) ::close(fd);
  }
}

void reap(const ChildContext& context) {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == ECHILD && g_stopping) ::_exit(0);
    if (pid <= 0) return;
    for (Command& command : g_commands) {
      if (command.pid != pid) continue;
      send_event(context.sync_read_fd, SessionEventKind::exited, command.request_id, status);
      command = Command{};
    }
  }
}

}  // namespace

[[noreturn]] void serve_session(const ChildContext& context) {
  // The stdio inherited from `session start` would keep its caller's pipes open for as long as
  // the session lives (a shell's $(...) would never return). Commands get their own stdio.
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    for (int stdio = 0; stdio <= 2; ++stdio) ::dup2(null_fd, stdio);
    if (null_fd > 2) ::close(null_fd);
  }
  sigset_t child_exits;
  sigemptyset(&child_exits);
  sigaddset(&child_exits, SIGCHLD);
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);  // pid 1 ignores what it does not handle anyway
  const int signal_fd = ::signalfd(-1, &child_exits, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) {
    Report failed{ReportKind::setup_failed, Step::start_agent, errno, -1};
    ssize_t ignored = ::write(context.report_write_fd, &failed, sizeof failed);
    (void)ignored;
    ::_exit(125);
  }
  Report ready{ReportKind::started, Step::none, 0, 0};
  ssize_t ignored = ::write(context.report_write_fd, &ready, sizeof ready);
  (void)ignored;
  for (;;) {
    pollfd fds[2] = {{context.sync_read_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR
    if ((fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      }
      reap(context);
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) on_request(context);
  }
}

}  // namespace airlock::sandbox
