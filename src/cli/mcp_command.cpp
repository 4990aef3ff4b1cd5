// `airlock mcp`: the MCP server on stdio (src/mcp has the protocol), backed by one session that
// `airlock session start` brings up on initialize and `airlock session stop` ends on EOF or
// SIGTERM/SIGINT. Log lines go to stderr only: stdout carries JSON-RPC.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <list>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "mcp/mcp_server.h"

extern char** environ;

namespace airlock::cli {
namespace {

// A line longer than this (a huge write_file) is refused rather than buffered without end.
constexpr size_t kMaxLineBytes = size_t{64} * 1024 * 1024;

struct Spawned {
  int exit_code;
  std::string last_error_line;  // what it said last on stderr, for the client to see too
};

std::string last_line(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const size_t start = text.rfind('\n');
  return start == std::string::npos ? text : text.substr(start + 1);
}

// Runs this binary with `arguments`: stdin and stdout /dev/null (stdout is the client's), stderr
// copied to ours. The child gets an empty signal mask and default dispositions: we block
// SIGINT/SIGTERM for a signalfd and ignore SIGPIPE, and the session's supervisor would inherit
// both. Returns once its stderr closes (a session's supervisor lets go of it once it is ready).
Result<Spawned> run_airlock(const std::vector<std::string>& arguments) {
  int errors[2];
  if (::pipe2(errors, O_CLOEXEC) != 0) return Error{"cannot create a pipe: " + errno_text(errno)};
  UniqueFd read_end(errors[0]);
  UniqueFd write_end(errors[1]);
  std::vector<std::string> argv_text = {"airlock"};
  argv_text.insert(argv_text.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  argv.reserve(argv_text.size() + 1);
  for (std::string& part : argv_text) argv.push_back(part.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal : {SIGPIPE, SIGINT, SIGTERM}) sigaddset(&defaults, signal);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t child = 0;
  const int spawned =
      ::posix_spawn(&child, "/proc/self/exe", &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    return Error{"cannot run airlock " + arguments.front() + ": " + errno_text(spawned)};
  }
  write_end.reset();
  // Read until it exits, not until EOF: a session's processes may keep a copy of the pipe.
  std::string said;
  int status = 0;
  bool exited = false;
  for (;;) {
    pollfd readable{read_end.get(), POLLIN, 0};
    const int ready = ::poll(&readable, 1, exited ? 0 : 100);
    if (ready > 0 && (readable.revents & (POLLIN | POLLHUP)) != 0) {
      char chunk[4096];
      const ssize_t n = ::read(read_end.get(), chunk, sizeof chunk);
      if (n > 0) {
        const auto size = static_cast<size_t>(n);
        ssize_t ignored = ::write(STDERR_FILENO, chunk, size);
        (void)ignored;
        said.append(chunk, size);
        if (said.size() > 8192) said.erase(0, said.size() - 8192);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;  // EOF
    } else if (exited) {
      break;
    }
    if (!exited) exited = ::waitpid(child, &status, WNOHANG) == child;
  }
  while (!exited && ::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return Spawned{exit_code, last_line(said)};
}

// The session behind the tools: started once, on initialize; stopped once, at the end.
class AirlockSession final : public mcp::SessionRunner {
 public:
  explicit AirlockSession(const McpArguments& arguments)
      : arguments_(arguments), name_(fmt::format("mcp-{}", ::getpid())) {}

  Status start() override {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (started_) return ok_status();
    std::vector<std::string> command = {"session", "start", "--name", name_};
    if (arguments_.policy_file)
      command.insert(command.end(), {"--policy", *arguments_.policy_file});
    if (arguments_.profile) command.insert(command.end(), {"--profile", *arguments_.profile});
    if (arguments_.workspace) command.insert(command.end(), {"--workspace", *arguments_.workspace});
    Result<Spawned> ran = run_airlock(command);
    if (!ran) return ran.error();
    if (ran->exit_code != 0) {
      return Error{fmt::format("airlock session start exited with {}: {}", ran->exit_code,
                               ran->last_error_line)};
    }
    started_ = true;
    fmt::print(stderr, "airlock mcp: session {} is up\n", name_);
    return ok_status();
  }

  control::CapturedResult run(const mcp::ToolCommand& command) override {
    control::ExecRequest request;
    request.session = name_;
    request.argv = command.argv;
    request.timeout_ms = command.timeout_ms;
    return control::exec_captured(request, command.input, control::kDefaultOutputCap);
  }

  void stop() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!started_) return;
    started_ = false;
    // A short grace: whatever still runs in it is an abandoned tool call.
    Result<Spawned> ran = run_airlock({"session", "stop", "--grace", "2s", name_});
    if (!ran || ran->exit_code != 0) {
      fmt::print(stderr, "airlock mcp: could not stop session {}: {}\n", name_,
                 ran ? fmt::format("exit {}", ran->exit_code) : ran.error().message);
    }
  }

 private:
  const McpArguments& arguments_;
  const std::string name_;
  std::mutex mutex_;
  bool started_ = false;
};

// Replies go out whole, one per line, from the reading thread and the tool calls' threads.
class ReplyWriter {
 public:
  void write(const std::string& line) {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::string data = line + "\n";
    const char* next = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(STDOUT_FILENO, next, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the client has gone (EPIPE): nobody to tell
      next += n;
      left -= static_cast<size_t>(n);
    }
  }

 private:
  std::mutex mutex_;
};

// Tool calls run on threads of their own, so a long `run` does not hold up ping or a second call.
class ToolCalls {
 public:
  ToolCalls(mcp::McpServer& server, ReplyWriter& writer) : server_(server), writer_(writer) {}
  ~ToolCalls() { join_all(); }

  void start(std::string line) {
    ++active_;
    threads_.emplace_back([this, line = std::move(line)] {
      if (std::optional<std::string> reply = server_.handle_line(line)) writer_.write(*reply);
      --active_;
    });
  }
  int active() const { return active_.load(); }
  void join_all() {
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    threads_.clear();
  }

 private:
  mcp::McpServer& server_;
  ReplyWriter& writer_;
  std::list<std::thread> threads_;
  std::atomic<int> active_{0};
};

// Reads stdin until EOF or SIGINT/SIGTERM; returns the signal, or 0 at EOF.
int serve(int signals, mcp::McpServer& server, ReplyWriter& writer, ToolCalls& calls) {
  std::string buffer;
  bool overlong = false;
  for (;;) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signals, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (::read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        return static_cast<int>(info.ssi_signo);
      }
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    char chunk[64 * 1024];
    const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t end;
    while ((end = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, end);
      buffer.erase(0, end + 1);
      if (overlong) {  // the tail of a line already refused
        overlong = false;
        continue;
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      if (mcp::McpServer::is_tool_call(line)) {
        calls.start(std::move(line));
      } else if (std::optional<std::string> reply = server.handle_line(line)) {
        writer.write(*reply);
      }
    }
    if (buffer.size() > kMaxLineBytes) {
      buffer.clear();
      overlong = true;
      writer.write(fmt::format(
          R"({{"jsonrpc":"2.0","id":null,"error":{{"code":{},"message":"message over {} MiB"}}}})",
          mcp::kInvalidRequest, kMaxLineBytes / (size_t{1024} * 1024)));
    }
  }
}

// After EOF the calls still running are answered (the client may close its end early) unless a
// signal says to stop now. Returns the signal, or 0.
int wait_for_calls(int signals, const ToolCalls& calls) {
  while (calls.active() > 0) {
    pollfd wait{signals, POLLIN, 0};
    if (::poll(&wait, 1, 50) > 0) {
      signalfd_siginfo info{};
      if (::read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        return static_cast<int>(info.ssi_signo);
      }
    }
  }
  return 0;
}

}  // namespace

int mcp_command(const McpArguments& arguments) {
  // Blocked before any thread exists, so every thread leaves them to the signalfd.
  sigset_t stopping;
  sigemptyset(&stopping);
  sigaddset(&stopping, SIGINT);
  sigaddset(&stopping, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &stopping, nullptr);
  (void)::signal(SIGPIPE, SIG_IGN);  // a client gone mid-reply is an EPIPE, not our death
  UniqueFd signals(::signalfd(-1, &stopping, SFD_CLOEXEC));
  if (!signals.valid()) {
    fmt::print(stderr, "airlock mcp: cannot create a signalfd: {}\n", errno_text(errno));
    return 1;
  }
  AirlockSession session(arguments);
  mcp::McpServer server(session);
  ReplyWriter writer;
  int signal_number = 0;
  {
    ToolCalls calls(server, writer);
    signal_number = serve(signals.get(), server, writer, calls);
    if (signal_number == 0) signal_number = wait_for_calls(signals.get(), calls);
    // Stopping the session ends the commands still running; their calls then return.
    session.stop();
    calls.join_all();
  }
  return signal_number == 0 ? 0 : 128 + signal_number;
}

}  // namespace airlock::cli
