#include "observe/exec_watcher.h"

#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/errno_text.h"

namespace airlock::observe {
namespace {

constexpr size_t kMaxArgs = 64;
constexpr size_t kMaxArgBytes = 512;
constexpr size_t kMaxPathBytes = 4096;

// A NUL-terminated string at `address` in the caller's memory, at most `max_bytes`.
std::optional<std::string> read_string(int mem_fd, uint64_t address, size_t max_bytes) {
  std::string text;
  std::array<char, 256> chunk{};
  while (text.size() < max_bytes) {
    const ssize_t got =
        ::pread(mem_fd, chunk.data(), chunk.size(), static_cast<off_t>(address + text.size()));
    if (got <= 0) return text.empty() ? std::nullopt : std::optional<std::string>(text);
    for (ssize_t i = 0; i < got; ++i) {
      if (chunk[static_cast<size_t>(i)] == '\0') return text;
      text += chunk[static_cast<size_t>(i)];
    }
  }
  return text;  // cut at max_bytes
}

std::vector<std::string> read_argv(int mem_fd, uint64_t address) {
  std::vector<std::string> argv;
  for (size_t i = 0; address != 0 && i < kMaxArgs; ++i) {
    uint64_t pointer = 0;
    if (::pread(mem_fd, &pointer, sizeof pointer, static_cast<off_t>(address + i * 8)) !=
            static_cast<ssize_t>(sizeof pointer) ||
        pointer == 0) {
      break;
    }
    std::optional<std::string> argument = read_string(mem_fd, pointer, kMaxArgBytes);
    if (!argument) break;
    argv.push_back(std::move(*argument));
  }
  return argv;
}

std::string read_link(const std::string& path) {
  std::array<char, 4096> target{};
  const ssize_t length = ::readlink(path.c_str(), target.data(), target.size());
  return length > 0 ? std::string(target.data(), static_cast<size_t>(length)) : std::string();
}

std::string read_small_file(const std::string& path) {
  std::string text;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return text;
  std::array<char, 2048> chunk{};
  const ssize_t got = ::read(fd.get(), chunk.data(), chunk.size());
  if (got > 0) text.assign(chunk.data(), static_cast<size_t>(got));
  return text;
}

// The pid as the sandbox numbers it: the last field of "NSpid:" in /proc/PID/status.
long sandbox_pid_of(pid_t pid) {
  const std::string status = read_small_file("/proc/" + std::to_string(pid) + "/status");
  const size_t start = status.find("\nNSpid:");
  if (start == std::string::npos) return 0;
  const size_t end = status.find('\n', start + 1);
  const std::string line = status.substr(start + 7, end - start - 7);
  const size_t last = line.find_last_of(" \t");
  return std::strtol(line.c_str() + (last == std::string::npos ? 0 : last + 1), nullptr, 10);
}

pid_t parent_of(pid_t pid) {
  const std::string stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t name_end = stat.rfind(')');
  if (name_end == std::string::npos || name_end + 4 >= stat.size()) return 0;
  return static_cast<pid_t>(std::strtol(stat.c_str() + name_end + 4, nullptr, 10));
}

// Would `path` (as the caller wrote it) name something in the caller's view of the files?
bool exists_for(pid_t pid, const std::string& path) {
  const std::string base =
      "/proc/" + std::to_string(pid) + (path.front() == '/' ? "/root" : "/cwd/");
  struct stat status {};
  return ::stat((base + path).c_str(), &status) == 0;
}

}  // namespace

Result<std::unique_ptr<ExecWatcher>> ExecWatcher::start(UniqueFd listener,
                                                        const audit::AuditLog& audit) {
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  if (!stop.valid()) return Error{"cannot create an eventfd: " + errno_text(errno)};
  std::unique_ptr<ExecWatcher> watcher(
      new ExecWatcher(std::move(listener), std::move(stop), audit));
  ExecWatcher* raw = watcher.get();
  watcher->thread_ = std::thread([raw] { raw->run(); });
  return watcher;
}

ExecWatcher::ExecWatcher(UniqueFd listener, UniqueFd stop, const audit::AuditLog& audit)
    : listener_(std::move(listener)), stop_(std::move(stop)), audit_(audit) {}

ExecWatcher::~ExecWatcher() {
  const uint64_t one = 1;
  ssize_t ignored = ::write(stop_.get(), &one, sizeof one);
  (void)ignored;
  if (thread_.joinable()) thread_.join();
}

void ExecWatcher::run() {
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{listener_.get(), POLLIN, 0}, pollfd{stop_.get(), POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) != 0) answer_one();
    // POLLHUP without POLLIN: every process of the sandbox is gone.
    if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0 && (fds[0].revents & POLLIN) == 0)
      return;
  }
}

void ExecWatcher::answer_one() {
  seccomp_notif* request = nullptr;
  seccomp_notif_resp* response = nullptr;
  if (seccomp_notify_alloc(&request, &response) != 0) return;
  if (seccomp_notify_receive(listener_.get(), request) != 0) {
    seccomp_notify_free(request, response);  // the caller died meanwhile (ENOENT)
    return;
  }
  const pid_t pid = static_cast<pid_t>(request->pid);
  const bool at = request->data.nr == __NR_execveat;
  const uint64_t path_address = request->data.args[at ? 1 : 0];
  const uint64_t argv_address = request->data.args[at ? 2 : 1];

  nlohmann::json fields;
  UniqueFd mem(::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
  // Opened, then checked: had the caller died and its pid been reused before the open, the
  // notification would no longer be valid.
  const bool valid = seccomp_notify_id_valid(listener_.get(), request->id) == 0;
  std::optional<std::string> path;
  if (valid && mem.valid()) path = read_string(mem.get(), path_address, kMaxPathBytes);
  // Unreadable: the agent's own exec (of the command sandbox.start names), made from memory it
  // still shares with airlock's init, which is not dumpable; readable by root only. The PATH
  // candidates tried then cannot be told from the one that worked, so none is recorded.
  bool record = valid && path && !path->empty() && exists_for(pid, *path);
  if (record) {
    fields["path"] = *path;
    fields["argv"] = read_argv(mem.get(), argv_address);
  }
  if (at) fields["execveat_dirfd"] = static_cast<int>(request->data.args[0]);
  if (record) {
    fields["pid"] = sandbox_pid_of(pid);
    fields["host_pid"] = pid;
    fields["caller_exe"] = read_link("/proc/" + std::to_string(pid) + "/exe");
    const pid_t parent = parent_of(pid);
    if (parent > 0) fields["ppid"] = sandbox_pid_of(parent);
  }

  response->id = request->id;
  response->error = 0;
  response->val = 0;
  response->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  seccomp_notify_respond(listener_.get(), response);  // fails only if the caller is gone
  seccomp_notify_free(request, response);
  if (record) audit_.record("process.exec", fields);
}

}  // namespace airlock::observe
