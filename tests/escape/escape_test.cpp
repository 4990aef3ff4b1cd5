// Escape probes for THREATS.md, "From inside the sandbox", items 1-16. Each test first proves
// that airlock-probe can perform its action outside airlock (a probe that cannot act proves
// nothing, so that fails the test, or skips it naming what the kernel lacks), then runs the
// same probe inside `airlock run` and asserts that it is blocked. Where success is an effect on
// the host (a file written, a process left running), the harness checks the host itself.
//
// Two modes from one binary, chosen by AIRLOCK_ESCAPE_AS: "root" runs airlock as the harness's
// user (root in CI); "nobody" runs it as uid 65534 through setpriv. The harness itself always
// stays who it is and performs the outside proofs.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace {

using Strings = std::vector<std::string>;
using FdMap = std::vector<std::pair<int, int>>;  // {descriptor in the harness, number in the child}
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uid_t kSandboxUid = 65534;
constexpr gid_t kSandboxGid = 65534;
constexpr const char* kSetpriv = "/usr/bin/setpriv";
constexpr milliseconds kRunTimeout{20000};

// ---------------------------------------------------------------------------------------------
// Small host-side helpers.

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

std::string read_text(const std::string& path) {
  std::string data;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return data;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) data.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return data;
}

bool write_text(const std::string& path, const std::string& data, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  bool ok = true;
  for (size_t done = 0; ok && done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    ok = n > 0 || (n < 0 && errno == EINTR);
    if (n > 0) done += static_cast<size_t>(n);
  }
  ok = ::fchmod(fd, mode) == 0 && ok;
  return ::close(fd) == 0 && ok;
}

bool copy_file(const std::string& from, const std::string& to, mode_t mode) {
  std::string data = read_text(from);
  return !data.empty() && write_text(to, data, mode);
}

uid_t g_chown_uid = 0;
gid_t g_chown_gid = 0;

int chown_entry(const char* path, const struct stat*, int, FTW*) {
  return ::lchown(path, g_chown_uid, g_chown_gid) == 0 ? 0 : -1;
}

bool chown_tree(const std::string& path, uid_t uid, gid_t gid) {
  g_chown_uid = uid;
  g_chown_gid = gid;
  return ::nftw(path.c_str(), chown_entry, 16, FTW_PHYS) == 0;
}

int remove_entry(const char* path, const struct stat*, int, FTW*) {
  return ::remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

void remove_tree(const std::string& path) {
  if (!path.empty() && path != "/") ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

// Pids of live processes whose command line contains MARKER (zombies have none).
std::vector<pid_t> processes_with(const std::string& marker) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == ::getpid()) continue;
    std::string cmdline = read_text(std::string("/proc/") + entry->d_name + "/cmdline");
    if (contains(cmdline, marker)) found.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return found;
}

// Waits up to TIMEOUT for CONDITION; returns its last value.
template <typename Condition>
bool eventually(milliseconds timeout, Condition condition) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

// ---------------------------------------------------------------------------------------------
// Running commands: output (stdout and stderr, or the pty) is captured, nothing else leaks.

struct Spawn {
  Strings argv;
  Strings env;
  std::string cwd;
  FdMap fds;         // passed on purpose; every other descriptor is closed on exec
  bool pty = false;  // a new session whose controlling terminal is a fresh pty
};

struct Child {
  pid_t pid = -1;
  int output = -1;
  std::string command;
};

struct Outcome {
  int code = -1;  // exit status, or 128 + signal
  bool timed_out = false;
  std::string output;
  std::string command;

  bool has_verdict(const char* verdict) const {
    return output.rfind(verdict, 0) == 0 || contains(output, std::string("\n") + verdict);
  }
  bool reached() const { return code == 0 && has_verdict("REACHED"); }
  bool blocked() const { return code == 1 && has_verdict("BLOCKED"); }
  std::string describe() const {
    return "  $ " + command + "\n  exit " + std::to_string(code) +
           (timed_out ? " (timed out)" : "") + "\n" +
           "  output: " + (output.empty() ? "(none)" : output);
  }
};

std::string join(const Strings& words) {
  std::string line;
  for (const std::string& word : words) line += (line.empty() ? "" : " ") + word;
  return line;
}

Child start(const Spawn& spec) {
  Child child;
  child.command = join(spec.argv);
  std::vector<char*> argv, envp;
  for (const std::string& s : spec.argv) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  for (const std::string& s : spec.env) envp.push_back(const_cast<char*>(s.c_str()));
  envp.push_back(nullptr);
  for (const auto& [from, to] : spec.fds) {
    if (from == to || to <= 2) return child;  // dup2 must create the child's descriptor
  }
  int read_end = -1, write_end = -1;
  char slave_name[128] = {};
  if (spec.pty) {
    read_end = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (read_end < 0 || ::grantpt(read_end) != 0 || ::unlockpt(read_end) != 0 ||
        ::ptsname_r(read_end, slave_name, sizeof slave_name) != 0) {
      return child;
    }
    // No echo: a character a probe injects must not end up in front of its verdict.
    termios modes{};
    if (::tcgetattr(read_end, &modes) == 0) {
      modes.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(read_end, TCSANOW, &modes);
    }
  } else {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return child;
    read_end = pipe_fds[0];
    write_end = pipe_fds[1];
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const char* cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here: the harness has a server thread.
    if (spec.pty) {
      ::setsid();
      int slave = ::open(slave_name, O_RDWR);
      if (slave < 0 || ::ioctl(slave, TIOCSCTTY, 0) != 0) ::_exit(120);
      ::dup2(slave, 0);
      ::dup2(slave, 1);
      ::dup2(slave, 2);
    } else {
      ::setpgid(0, 0);
      ::dup2(null_fd, 0);
      ::dup2(write_end, 1);
      ::dup2(write_end, 2);
    }
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    for (const auto& [from, to] : spec.fds) ::dup2(from, to);
    if (cwd != nullptr && ::chdir(cwd) != 0) ::_exit(121);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(122);
  }
  if (write_end >= 0) ::close(write_end);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) {
    ::close(read_end);
    return child;
  }
  child.pid = pid;
  child.output = read_end;
  return child;
}

void kill_child(const Child& child) {
  ::kill(-child.pid, SIGKILL);  // its process group (it is the leader)
  ::kill(child.pid, SIGKILL);
}

Outcome finish(Child& child, milliseconds timeout = kRunTimeout) {
  Outcome outcome;
  outcome.command = child.command;
  if (child.pid < 0) {
    outcome.output = "(could not start the command)";
    return outcome;
  }
  const auto deadline = Clock::now() + timeout;
  auto left = [&] {
    return static_cast<int>(std::max<long>(
        0, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count()));
  };
  for (;;) {
    pollfd fd{child.output, POLLIN, 0};
    int ready = ::poll(&fd, 1, left());
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      outcome.timed_out = true;
      kill_child(child);
      break;
    }
    char buffer[4096];
    ssize_t n = ::read(child.output, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF, or EIO once a pty's last slave is closed
    outcome.output.append(buffer, static_cast<size_t>(n));
  }
  ::close(child.output);
  child.output = -1;
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(child.pid, &status, WNOHANG);
    if (done == child.pid) break;
    if (done < 0 && errno != EINTR) break;
    if (left() == 0 && !outcome.timed_out) {
      outcome.timed_out = true;
      kill_child(child);
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  outcome.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // Tidy the output for messages: pty line ends, and the trailing newline.
  std::string tidy;
  for (char c : outcome.output) {
    if (c != '\r') tidy += c;
  }
  while (!tidy.empty() && tidy.back() == '\n') tidy.pop_back();
  outcome.output = tidy;
  child.pid = -1;
  return outcome;
}

// AIRLOCK_ESCAPE_VERBOSE=1 prints every command and its output.
bool verbose() {
  static const bool on = std::getenv("AIRLOCK_ESCAPE_VERBOSE") != nullptr;
  return on;
}

Outcome run(const Spawn& spec, milliseconds timeout = kRunTimeout) {
  Child child = start(spec);
  Outcome outcome = finish(child, timeout);
  if (verbose()) std::cout << outcome.describe() << "\n";
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Host services the probes aim at. One thread answers them all: stream sockets get the token
// and are closed, datagrams get the token back, DNS queries get an A record.

enum class Service { stream_token, datagram_token, dns };

std::string dns_answer(const unsigned char* query, size_t length) {
  size_t end = 12;
  while (end < length && query[end] != 0) end += query[end] + 1u;
  end += 5;  // the root label, QTYPE, QCLASS
  if (length < 12 || end > length) return "";
  std::string answer(reinterpret_cast<const char*>(query), end);
  answer[2] = static_cast<char>(0x81);  // QR, RD
  answer[3] = static_cast<char>(0x80);  // RA, NOERROR
  answer[6] = 0;
  answer[7] = 1;  // one answer
  for (size_t i = 8; i < 12; ++i) answer[i] = 0;
  static const unsigned char kRecord[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 53};
  answer.append(reinterpret_cast<const char*>(kRecord), sizeof kRecord);
  return answer;
}

class Servers {
 public:
  void add(int fd, Service service) { services_.emplace_back(fd, service); }

  void start(const std::string& token) {
    token_ = token + "\n";
    stop_ = ::eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { loop(); });
  }

  void stop() {
    if (thread_.joinable()) {
      uint64_t one = 1;
      if (::write(stop_, &one, sizeof one) != sizeof one) return;
      thread_.join();
    }
    for (const auto& [fd, service] : services_) ::close(fd);
    services_.clear();
    if (stop_ >= 0) ::close(stop_);
    stop_ = -1;
  }

 private:
  void loop() {
    std::vector<pollfd> fds;
    for (const auto& [fd, service] : services_) fds.push_back({fd, POLLIN, 0});
    fds.push_back({stop_, POLLIN, 0});
    for (;;) {
      if (::poll(fds.data(), fds.size(), -1) < 0) continue;
      if ((fds.back().revents & POLLIN) != 0) return;
      for (size_t i = 0; i < services_.size(); ++i) {
        if ((fds[i].revents & POLLIN) != 0) answer(services_[i].first, services_[i].second);
      }
    }
  }

  void answer(int fd, Service service) {
    if (service == Service::stream_token) {
      int connection = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (connection < 0) return;
      ssize_t ignored = ::send(connection, token_.data(), token_.size(), MSG_NOSIGNAL);
      (void)ignored;
      ::close(connection);
      return;
    }
    unsigned char buffer[1500];
    sockaddr_storage from{};
    socklen_t from_length = sizeof from;
    ssize_t n = ::recvfrom(fd, buffer, sizeof buffer, MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n <= 0) return;
    std::string reply =
        service == Service::dns ? dns_answer(buffer, static_cast<size_t>(n)) : token_;
    if (!reply.empty()) {
      ::sendto(fd, reply.data(), reply.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
               from_length);
    }
  }

  std::vector<std::pair<int, Service>> services_;
  std::string token_;
  int stop_ = -1;
  std::thread thread_;
};

// An IPv4 or IPv6 socket bound to HOST:0 (or PORT); port gets the bound port. -1 on failure.
int bound_socket(const std::string& host, int type, uint16_t& port) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof *v6;
  } else {
    return -1;
  }
  int fd = ::socket(address.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      (type == SOCK_STREAM && ::listen(fd, 64) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(address.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  return fd;
}

// A listening Unix socket: "@name" is abstract, anything else a path (mode 0666).
int unix_listener(const std::string& name) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (name.size() >= sizeof address.sun_path) return -1;
  socklen_t length = sizeof address;
  if (name[0] == '@') {
    std::memcpy(address.sun_path + 1, name.data() + 1, name.size() - 1);
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  } else {
    std::memcpy(address.sun_path, name.data(), name.size());
    ::unlink(name.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd, 16) != 0 ||
      (name[0] != '@' && ::chmod(name.c_str(), 0666) != 0)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string first_host_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* entry = list; entry != nullptr && found.empty(); entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    if ((entry->ifa_flags & IFF_LOOPBACK) != 0 || (entry->ifa_flags & IFF_UP) == 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(entry->ifa_addr)->sin_addr, text,
                sizeof text);
    found = text;
  }
  ::freeifaddrs(list);
  return found;
}

// Runs the enclosing scope in another network namespace (this thread only; children inherit).
class InNetns {
 public:
  explicit InNetns(int target) : saved_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    ok_ = saved_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
  }
  ~InNetns() {
    if (ok_) ::setns(saved_, CLONE_NEWNET);
    if (saved_ >= 0) ::close(saved_);
  }
  InNetns(const InNetns&) = delete;
  InNetns& operator=(const InNetns&) = delete;
  bool ok() const { return ok_; }

 private:
  int saved_;
  bool ok_ = false;
};

bool add_address(int fd, const char* label, const char* address) {
  ifreq request{};
  std::strncpy(request.ifr_name, label, IFNAMSIZ - 1);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  ::inet_pton(AF_INET, address, &in.sin_addr);
  std::memcpy(&request.ifr_addr, &in, sizeof in);
  if (::ioctl(fd, SIOCSIFADDR, &request) != 0) return false;
  ::inet_pton(AF_INET, "255.255.255.255", &in.sin_addr);
  std::memcpy(&request.ifr_netmask, &in, sizeof in);
  return ::ioctl(fd, SIOCSIFNETMASK, &request) == 0;
}

// ---------------------------------------------------------------------------------------------
// The suite's shared state, set up once per run.

struct Suite {
  bool root = false;
  bool as_nobody = false;
  // AIRLOCK_ESCAPE_VIA=exec: every probe runs through `airlock exec` in a session started with
  // the same options, instead of `airlock run`: an exec'd command must be confined the same.
  bool via_exec = false;
  std::string error;  // set-up failure: every test fails with it

  std::string base;     // /opt/airlock-probe-<pid>: outside every workspace, owned by uid 65534
  std::string bin;      // fresh 0755 copies of airlock and airlock-probe
  std::string airlock;  // the copy that is run
  std::string probe;
  std::string home;     // a fake HOME holding secrets
  std::string outside;  // a directory outside any workspace, writable by uid 65534 on the host
  std::string token;    // what the host's servers answer
  std::string secret;   // what the fake secrets contain
  std::string pids_policy, memory_policy;
  int counter = 0;

  std::string host_ipv4;
  uint16_t tcp4 = 0, tcp6 = 0, tcp_host = 0, udp4 = 0, udp6 = 0, dns_host = 0;
  std::string abstract_name, run_socket, tmp_socket_dir, tmp_socket;
  int public_netns = -1;  // a namespace where 1.1.1.1:443 and 8.8.8.8:53 answer
  std::string public_netns_problem;
  Servers servers;

  std::string next_name(const std::string& name) { return name + "-" + std::to_string(++counter); }
};

Suite* g = nullptr;

std::string pid_text() {
  return std::to_string(::getpid());
}

std::string make_dir(const std::string& path, mode_t mode = 0755) {
  ::mkdir(path.c_str(), mode);
  ::chmod(path.c_str(), mode);
  return path;
}

void setup_public_netns(Suite& suite) {
  if (!suite.root) {
    suite.public_netns_problem = "creating a network namespace needs root";
    return;
  }
  int host = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (host < 0 || ::unshare(CLONE_NEWNET) != 0) {
    suite.public_netns_problem = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    if (host >= 0) ::close(host);
    return;
  }
  int control = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq lo{};
  std::strncpy(lo.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = control >= 0 && ::ioctl(control, SIOCGIFFLAGS, &lo) == 0;
  lo.ifr_flags = static_cast<short>(lo.ifr_flags | IFF_UP);
  ok = ok && ::ioctl(control, SIOCSIFFLAGS, &lo) == 0 && add_address(control, "lo:1", "1.1.1.1") &&
       add_address(control, "lo:2", "8.8.8.8");
  if (control >= 0) ::close(control);
  uint16_t https = 443, dns = 53;
  int tcp = ok ? bound_socket("1.1.1.1", SOCK_STREAM, https) : -1;
  int quic = ok ? bound_socket("1.1.1.1", SOCK_DGRAM, https) : -1;
  int resolver = ok ? bound_socket("8.8.8.8", SOCK_DGRAM, dns) : -1;
  if (tcp >= 0 && quic >= 0 && resolver >= 0) {
    suite.servers.add(tcp, Service::stream_token);
    suite.servers.add(quic, Service::datagram_token);
    suite.servers.add(resolver, Service::dns);
    suite.public_netns = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  } else {
    suite.public_netns_problem =
        "could not give the test namespace the addresses 1.1.1.1 and 8.8.8.8";
  }
  ::setns(host, CLONE_NEWNET);
  ::close(host);
}

// Leftovers of an earlier run that was killed before its tear-down (its pid is gone).
void remove_stale_leftovers() {
  for (const char* parent : {"/opt", "/tmp", "/run"}) {
    DIR* dir = ::opendir(parent);
    if (dir == nullptr) continue;
    std::vector<std::string> stale;
    while (dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      const std::string prefix = "airlock-probe-";
      if (name.rfind(prefix, 0) != 0) continue;
      char* end = nullptr;
      long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
      if (pid <= 0 || end == name.c_str() + prefix.size() || exists("/proc/" + std::to_string(pid)))
        continue;
      stale.push_back(std::string(parent) + "/" + name);
    }
    ::closedir(dir);
    for (const std::string& path : stale) remove_tree(path);
  }
}

std::string setup_suite(Suite& suite) {
  const char* mode = std::getenv("AIRLOCK_ESCAPE_AS");
  suite.as_nobody = mode != nullptr && std::string(mode) == "nobody";
  const char* via = std::getenv("AIRLOCK_ESCAPE_VIA");
  suite.via_exec = via != nullptr && std::string(via) == "exec";
  suite.root = ::geteuid() == 0;
  if (suite.as_nobody && !suite.root) return "";  // every test skips: see EscapeTest::SetUp
  if (suite.as_nobody && ::access(kSetpriv, X_OK) != 0)
    return "nobody mode needs /usr/bin/setpriv (util-linux)";
  if (suite.root) remove_stale_leftovers();
  suite.token = "airlock-escape-token-" + pid_text();
  suite.secret = "AIRLOCK-ESCAPE-SECRET-" + pid_text();

  // Not under a bind-mounted tree when not root: then probes are copied into each workspace.
  if (suite.root) {
    suite.base = make_dir("/opt/airlock-probe-" + pid_text());
  } else {
    char templ[] = "/var/tmp/airlock-probe-XXXXXX";
    if (::mkdtemp(templ) == nullptr) return std::string("mkdtemp: ") + std::strerror(errno);
    suite.base = make_dir(templ);
  }
  suite.bin = make_dir(suite.base + "/bin");
  suite.airlock = suite.bin + "/airlock";
  suite.probe = suite.bin + "/airlock-probe";
  // AIRLOCK_ESCAPE_AIRLOCK replaces the airlock under test: with a stand-in that only execs
  // the command, every probe must fail (a check of the suite itself, see README.md).
  const char* replacement = std::getenv("AIRLOCK_ESCAPE_AIRLOCK");
  if (!copy_file(replacement != nullptr ? replacement : AIRLOCK_BINARY, suite.airlock, 0755) ||
      !copy_file(AIRLOCK_PROBE_BINARY, suite.probe, 0755)) {
    return "cannot copy airlock and airlock-probe into " + suite.bin;
  }
  suite.outside = make_dir(suite.base + "/outside");
  suite.home = make_dir(suite.base + "/home", 0700);
  make_dir(suite.home + "/.ssh", 0700);
  make_dir(suite.home + "/.aws", 0700);
  bool ok = write_text(suite.home + "/.ssh/id_rsa",
                       "-----BEGIN OPENSSH PRIVATE KEY-----\n" + suite.secret +
                           "\n-----END OPENSSH PRIVATE KEY-----\n",
                       0600) &&
            write_text(suite.home + "/.aws/credentials",
                       "[default]\naws_access_key_id = AKIAPROBE\naws_secret_access_key = " +
                           suite.secret + "\n",
                       0600) &&
            write_text(suite.home + "/.netrc",
                       "machine example.com login probe password " + suite.secret + "\n", 0600) &&
            write_text(suite.home + "/.bashrc", "# the host user's bashrc\n", 0644);
  if (!ok) return "cannot write the fake HOME " + suite.home;
  suite.pids_policy = suite.base + "/pids.yaml";
  suite.memory_policy = suite.base + "/memory.yaml";
  ok = write_text(suite.pids_policy,
                  "version: 1\nname: probe\nextends: [default]\nprocess:\n  max_pids: 64\n") &&
       write_text(suite.memory_policy,
                  "version: 1\nname: probe\nextends: [default]\nprocess:\n  max_pids: 64\n  "
                  "max_memory_mb: 64\n");
  if (!ok) return "cannot write the policies";
  make_dir(suite.base + "/mnt");
  if (suite.root) {
    // The sandbox user owns the outside world it must not touch: file modes never block it.
    chown_tree(suite.home, kSandboxUid, kSandboxGid);
    chown_tree(suite.outside, kSandboxUid, kSandboxGid);
    if (::chown(suite.base.c_str(), kSandboxUid, kSandboxGid) != 0)
      return "cannot chown " + suite.base;
  }

  // Host services.
  setup_public_netns(suite);
  int fd = bound_socket("127.0.0.1", SOCK_STREAM, suite.tcp4);
  if (fd < 0) return "cannot listen on 127.0.0.1";
  suite.servers.add(fd, Service::stream_token);
  if ((fd = bound_socket("::1", SOCK_STREAM, suite.tcp6)) >= 0)
    suite.servers.add(fd, Service::stream_token);
  if ((fd = bound_socket("127.0.0.1", SOCK_DGRAM, suite.udp4)) >= 0)
    suite.servers.add(fd, Service::datagram_token);
  if ((fd = bound_socket("::1", SOCK_DGRAM, suite.udp6)) >= 0)
    suite.servers.add(fd, Service::datagram_token);
  suite.host_ipv4 = first_host_ipv4();
  if (!suite.host_ipv4.empty()) {
    if ((fd = bound_socket(suite.host_ipv4, SOCK_STREAM, suite.tcp_host)) >= 0) {
      suite.servers.add(fd, Service::stream_token);
    }
    if ((fd = bound_socket(suite.host_ipv4, SOCK_DGRAM, suite.dns_host)) >= 0)
      suite.servers.add(fd, Service::dns);
  }
  suite.abstract_name = "@airlock-escape-" + pid_text();
  if ((fd = unix_listener(suite.abstract_name)) < 0)
    return "cannot listen on " + suite.abstract_name;
  suite.servers.add(fd, Service::stream_token);
  if (::access("/run", W_OK) == 0) {
    suite.run_socket = "/run/airlock-probe-" + pid_text() + "-docker.sock";
    if ((fd = unix_listener(suite.run_socket)) >= 0) suite.servers.add(fd, Service::stream_token);
  }
  suite.tmp_socket_dir = make_dir("/tmp/airlock-probe-" + pid_text(), 0700);
  suite.tmp_socket = suite.tmp_socket_dir + "/agent.sock";  // where ssh-agent puts its socket
  if ((fd = unix_listener(suite.tmp_socket)) < 0) return "cannot listen on " + suite.tmp_socket;
  suite.servers.add(fd, Service::stream_token);
  if (suite.root) chown_tree(suite.tmp_socket_dir, kSandboxUid, kSandboxGid);
  suite.servers.start(suite.token);
  return "";
}

class SuiteEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g = new Suite;
    g->error = setup_suite(*g);
  }
  void TearDown() override {
    g->servers.stop();
    if (!g->run_socket.empty()) ::unlink(g->run_socket.c_str());
    remove_tree(g->tmp_socket_dir);
    remove_tree(g->base);
    if (g->public_netns >= 0) ::close(g->public_netns);
    delete g;
    g = nullptr;
  }
};

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new SuiteEnvironment);

// ---------------------------------------------------------------------------------------------
// Outside and inside runs.

Strings child_env(const std::string& home) {
  return {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=C", "TERM=dumb"};
}

Strings as_sandbox_user() {
  return {kSetpriv, "--reuid=" + std::to_string(kSandboxUid),
          "--regid=" + std::to_string(kSandboxGid), "--clear-groups", "--"};
}

// A fresh workspace: a git repository with hooks, config and a .bashrc, as a project has.
// Owned by the harness's user in root mode (airlock idmaps it), by uid 65534 in nobody mode.
std::string make_workspace(const std::string& name, bool with_shell_rc = true) {
  std::string path = make_dir(g->base + "/ws-" + g->next_name(name));
  make_dir(path + "/.git");
  make_dir(path + "/.git/hooks");
  make_dir(path + "/.git/objects");
  make_dir(path + "/.git/refs");
  make_dir(path + "/.git/refs/heads");
  write_text(path + "/.git/config", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n");
  write_text(path + "/.git/HEAD", "ref: refs/heads/main\n");
  write_text(path + "/.git/hooks/pre-commit.sample", "#!/bin/sh\n", 0755);
  if (with_shell_rc) write_text(path + "/.bashrc", "# the project's bashrc\n");
  write_text(path + "/README", "a workspace\n");
  if (g->as_nobody) chown_tree(path, kSandboxUid, kSandboxGid);
  return path;
}

// Inside the sandbox the probe must be on a path the view shows: the bin copy under /opt when
// root, otherwise a copy inside the workspace.
std::string probe_inside(const std::string& workspace) {
  if (g->root) return g->probe;
  std::string copy = workspace + "/.airlock-probe";
  if (!exists(copy)) copy_file(g->probe, copy, 0755);
  return copy;
}

struct OutsideOptions {
  bool as_sandbox_user = false;  // run as uid 65534 (setpriv) instead of as the harness
  bool pty = false;
  FdMap fds;
  std::string cwd;
  std::string home;
};

Outcome outside(const Strings& probe_args, const OutsideOptions& options = {}) {
  Spawn spec;
  if (options.as_sandbox_user) spec.argv = as_sandbox_user();
  spec.argv.push_back(g->probe);
  spec.argv.insert(spec.argv.end(), probe_args.begin(), probe_args.end());
  spec.env = child_env(options.home.empty() ? g->home : options.home);
  spec.cwd = options.cwd.empty() ? g->base : options.cwd;
  spec.fds = options.fds;
  spec.pty = options.pty;
  return run(spec);
}

struct InsideOptions {
  std::string workspace;  // default: a fresh one
  std::string policy;
  Strings flags;  // more `airlock run` options
  bool pty = false;
  FdMap fds;
  std::string home;
};

Spawn inside_spec(const Strings& probe_args, const InsideOptions& options) {
  const std::string workspace =
      options.workspace.empty() ? make_workspace("default") : options.workspace;
  Spawn spec;
  if (g->as_nobody) spec.argv = as_sandbox_user();
  if (g->via_exec) {
    // session start with the options run would get, exec the probe, stop; the probe's status.
    static const char* const kViaExec = R"(airlock=$1; shift; name=escape-exec-$$; start=()
while [ "$1" != -- ]; do start+=("$1"); shift; done; shift
"$airlock" session start --name "$name" "${start[@]}" > /dev/null || exit $?
"$airlock" exec "$name" -- "$@"; status=$?
"$airlock" stop --grace 1s "$name"; exit $status)";
    spec.argv.insert(spec.argv.end(), {"/bin/bash", "-c", kViaExec, "via-exec", g->airlock});
  } else {
    spec.argv.insert(spec.argv.end(), {g->airlock, "run"});
  }
  if (!options.policy.empty()) spec.argv.insert(spec.argv.end(), {"--policy", options.policy});
  spec.argv.insert(spec.argv.end(), {"--workspace", workspace});
  spec.argv.insert(spec.argv.end(), options.flags.begin(), options.flags.end());
  spec.argv.insert(spec.argv.end(), {"--", probe_inside(workspace)});
  spec.argv.insert(spec.argv.end(), probe_args.begin(), probe_args.end());
  spec.env = child_env(options.home.empty() ? g->home : options.home);
  spec.cwd = workspace;
  spec.fds = options.fds;
  spec.pty = options.pty;
  return spec;
}

Outcome inside(const Strings& probe_args, const InsideOptions& options = {}) {
  return run(inside_spec(probe_args, options));
}

InsideOptions in_workspace(const std::string& workspace) {
  InsideOptions options;
  options.workspace = workspace;
  return options;
}

InsideOptions with_policy(const std::string& policy) {
  InsideOptions options;
  options.policy = policy;
  return options;
}

OutsideOptions in_directory(const std::string& cwd) {
  OutsideOptions options;
  options.cwd = cwd;
  return options;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

struct Expect {
  // The outside proof needs root.
  bool needs_root = false;
  // Prove it outside as uid 65534 too: file modes or uids are not what stops it inside.
  bool also_as_sandbox_user = false;
  // An outside "BLOCKED <unsupported>" means the kernel lacks FEATURE: skip, naming it.
  std::string unsupported;
  std::string feature;
  OutsideOptions out;
  InsideOptions in;
};

// The common shape: proven outside, blocked inside.
void expect_blocked(const Strings& args, const Expect& expect = {}) {
  if (expect.needs_root && !g->root)
    GTEST_SKIP() << "the outside proof needs root (the harness is not)";
  Outcome out = outside(args, expect.out);
  if (!out.reached()) {
    if (!expect.unsupported.empty() && out.code == 1 && contains(out.output, expect.unsupported)) {
      Outcome in = inside(args, expect.in);
      EXPECT_FALSE(in.reached()) << "REACHED inside although not outside?\n" << in.describe();
      GTEST_SKIP() << expect.feature << ": outside the probe says \"" << first_line(out.output)
                   << "\", so there is nothing to block (inside: \"" << first_line(in.output)
                   << "\")";
    }
    FAIL() << "the probe could not act outside airlock, so it would prove nothing:\n"
           << out.describe();
  }
  if (expect.also_as_sandbox_user && g->root) {
    OutsideOptions as_user = expect.out;
    as_user.as_sandbox_user = true;
    Outcome user = outside(args, as_user);
    ASSERT_TRUE(user.reached())
        << "uid 65534 cannot do it on the host either, so file modes (not airlock) "
           "would be what blocks it:\n"
        << user.describe();
  }
  Outcome in = inside(args, expect.in);
  if (g->via_exec && expect.in.pty) {
    // exec gives the command pipes, never the caller's terminal: there is none to inject into.
    EXPECT_TRUE(contains(in.output, "no controlling terminal")) << in.describe();
    return;
  }
  EXPECT_TRUE(in.blocked()) << "NOT BLOCKED inside airlock:\n"
                            << in.describe() << "\noutside:\n"
                            << out.describe();
}

Expect root_only() {
  Expect expect;
  expect.needs_root = true;
  return expect;
}

Expect sandbox_user_too() {
  Expect expect;
  expect.also_as_sandbox_user = true;
  return expect;
}

Expect unsupported_if(const std::string& error, const std::string& feature,
                      bool needs_root = false) {
  Expect expect;
  expect.unsupported = error;
  expect.feature = feature;
  expect.needs_root = needs_root;
  return expect;
}

// A process of the host owned by the sandbox user (so only airlock, not file modes or uids,
// stands between it and the probe).
Child start_victim() {
  Spawn spec;
  if (g->root) spec.argv = as_sandbox_user();
  spec.argv.insert(spec.argv.end(), {"/bin/sleep", "60"});
  spec.env = child_env(g->home);
  spec.cwd = "/";
  Child victim = start(spec);
  // Once setpriv has exec'd sleep, the victim has its final uid.
  const std::string comm = "/proc/" + std::to_string(victim.pid) + "/comm";
  eventually(milliseconds(2000), [&] { return read_text(comm) == "sleep\n"; });
  return victim;
}

bool alive(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

// Every probe's test fails if the suite could not set itself up, and skips in nobody mode
// when the harness cannot become uid 65534.
class EscapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(g, nullptr);
    ASSERT_TRUE(g->error.empty()) << "suite set-up failed: " << g->error;
    if (g->as_nobody && !g->root)
      GTEST_SKIP() << "AIRLOCK_ESCAPE_AS=nobody needs a root harness to become uid 65534";
  }
};

// One fixture per group of THREATS items, so that test names read "Tcp.HostLoopbackV4".
class Tcp : public EscapeTest {};
class Udp : public EscapeTest {};
class RawSockets : public EscapeTest {};
class Families : public EscapeTest {};
class UnixSockets : public EscapeTest {};
class IoUring : public EscapeTest {};
class Namespaces : public EscapeTest {};
class ProcessAccess : public EscapeTest {};
class KernelSurface : public EscapeTest {};
class Terminal : public EscapeTest {};
class Secrets : public EscapeTest {};
class HostInfo : public EscapeTest {};
class Filesystem : public EscapeTest {};
class Limits : public EscapeTest {};
class Supervisor : public EscapeTest {};
class Descriptors : public EscapeTest {};

std::string port(uint16_t value) {
  return std::to_string(value);
}

// ---------------------------------------------------------------------------------------------
// THREATS 1: TCP to the host's loopback, its other addresses, a public address.

TEST_F(Tcp, HostLoopbackV4) {
  expect_blocked({"tcp-connect", "127.0.0.1", port(g->tcp4), g->token}, sandbox_user_too());
}

TEST_F(Tcp, HostLoopbackV6) {
  if (g->tcp6 == 0) GTEST_SKIP() << "the host has no IPv6 loopback to listen on";
  expect_blocked({"tcp-connect", "::1", port(g->tcp6), g->token}, sandbox_user_too());
}

TEST_F(Tcp, HostLoopbackAsV4MappedV6) {
  expect_blocked({"tcp-connect", "::ffff:127.0.0.1", port(g->tcp4), g->token}, sandbox_user_too());
}

TEST_F(Tcp, HostNonLoopbackAddress) {
  if (g->tcp_host == 0) GTEST_SKIP() << "the host has no non-loopback IPv4 address";
  expect_blocked({"tcp-connect", g->host_ipv4, port(g->tcp_host), g->token}, sandbox_user_too());
}

// No internet here: a namespace of the harness's where 1.1.1.1 is a local address stands in
// for "the host can route to a public address"; airlock is started from inside it.
TEST_F(Tcp, PublicAddress) {
  if (g->public_netns < 0) GTEST_SKIP() << "no test network namespace: " << g->public_netns_problem;
  InNetns scope(g->public_netns);
  ASSERT_TRUE(scope.ok());
  expect_blocked({"tcp-connect", "1.1.1.1", "443", g->token});
}

// ---------------------------------------------------------------------------------------------
// THREATS 2: UDP anywhere (DNS to a resolver, QUIC to :443), ICMP echo.

TEST_F(Udp, HostLoopbackV4) {
  expect_blocked({"udp-echo", "127.0.0.1", port(g->udp4), g->token}, sandbox_user_too());
}

TEST_F(Udp, HostLoopbackV6) {
  if (g->udp6 == 0) GTEST_SKIP() << "the host has no IPv6 loopback to listen on";
  expect_blocked({"udp-echo", "::1", port(g->udp6), g->token}, sandbox_user_too());
}

TEST_F(Udp, DnsToHostAddress) {
  if (g->dns_host == 0) GTEST_SKIP() << "the host has no non-loopback IPv4 address";
  expect_blocked({"dns-query", g->host_ipv4, port(g->dns_host), "exfil.example.com"},
                 sandbox_user_too());
}

TEST_F(Udp, DnsToHardcodedResolver) {
  if (g->public_netns < 0) GTEST_SKIP() << "no test network namespace: " << g->public_netns_problem;
  InNetns scope(g->public_netns);
  ASSERT_TRUE(scope.ok());
  expect_blocked({"dns-query", "8.8.8.8", "53", "exfil.example.com"});
}

TEST_F(Udp, QuicToPublic443) {
  if (g->public_netns < 0) GTEST_SKIP() << "no test network namespace: " << g->public_netns_problem;
  InNetns scope(g->public_netns);
  ASSERT_TRUE(scope.ok());
  expect_blocked({"udp-echo", "1.1.1.1", "443", g->token});
}

TEST_F(Udp, IcmpEchoToHostAddress) {
  if (g->host_ipv4.empty()) GTEST_SKIP() << "the host has no non-loopback IPv4 address";
  expect_blocked({"icmp-ping", g->host_ipv4}, root_only());
}

// ---------------------------------------------------------------------------------------------
// THREATS 3: raw and packet sockets, netlink beyond NETLINK_ROUTE.

TEST_F(RawSockets, AfPacket) {
  expect_blocked({"af-packet"}, root_only());
}

TEST_F(RawSockets, SockRaw) {
  expect_blocked({"sock-raw"}, root_only());
}

TEST_F(RawSockets, NetlinkSockDiag) {
  expect_blocked({"netlink-sock-diag", port(g->tcp4)}, sandbox_user_too());
}

TEST_F(RawSockets, NetlinkKobjectUevent) {
  expect_blocked({"netlink-uevent"}, sandbox_user_too());
}

// NETLINK_ROUTE stays allowed (getaddrinfo needs it) but shows the sandbox's own lo only.
TEST_F(RawSockets, NetlinkRouteShowsOnlySandboxLoopback) {
  Outcome out = outside({"netlink-route"});
  if (out.blocked() && contains(out.output, "only lo"))
    GTEST_SKIP() << "the host has no interface but lo";
  ASSERT_TRUE(out.reached()) << out.describe();
  Outcome in = inside({"netlink-route"});
  EXPECT_TRUE(in.blocked()) << in.describe();
  EXPECT_TRUE(contains(in.output, "only lo visible (NETLINK_ROUTE works): lo")) << in.describe();
}

// ---------------------------------------------------------------------------------------------
// THREATS 4: unusual address families.

TEST_F(Families, Vsock) {
  expect_blocked({"af-vsock"}, unsupported_if("EAFNOSUPPORT", "the kernel has no AF_VSOCK"));
}

TEST_F(Families, Alg) {
  expect_blocked({"af-alg"}, unsupported_if("EAFNOSUPPORT", "the kernel has no AF_ALG"));
}

TEST_F(Families, Bluetooth) {
  expect_blocked({"af-bluetooth"},
                 unsupported_if("EAFNOSUPPORT", "the kernel has no AF_BLUETOOTH", true));
}

TEST_F(Families, Xdp) {
  expect_blocked({"af-xdp"}, unsupported_if("EAFNOSUPPORT", "the kernel has no AF_XDP", true));
}

// ---------------------------------------------------------------------------------------------
// THREATS 5: the host's Unix sockets.

TEST_F(UnixSockets, HostAbstract) {
  expect_blocked({"unix-connect", g->abstract_name, g->token}, sandbox_user_too());
}

TEST_F(UnixSockets, PathnameUnderRun) {
  if (g->run_socket.empty()) GTEST_SKIP() << "/run is not writable by the harness";
  expect_blocked({"unix-connect", g->run_socket, g->token}, sandbox_user_too());
}

TEST_F(UnixSockets, PathnameUnderTmp) {
  expect_blocked({"unix-connect", g->tmp_socket, g->token}, sandbox_user_too());
}

// ---------------------------------------------------------------------------------------------
// THREATS 6: io_uring.

TEST_F(IoUring, Setup) {
  expect_blocked({"io-uring-setup"}, unsupported_if("ENOSYS", "the kernel has no io_uring"));
}

TEST_F(IoUring, Enter) {
  expect_blocked({"io-uring-enter"}, unsupported_if("ENOSYS", "the kernel has no io_uring"));
}

TEST_F(IoUring, Register) {
  expect_blocked({"io-uring-register"}, unsupported_if("ENOSYS", "the kernel has no io_uring"));
}

// ---------------------------------------------------------------------------------------------
// THREATS 7: namespaces, mounts, chroot.

TEST_F(Namespaces, UnshareUser) {
  expect_blocked({"unshare-user"});
}

TEST_F(Namespaces, CloneNewUser) {
  expect_blocked({"clone-newuser"});
}

TEST_F(Namespaces, Clone3NewUser) {
  expect_blocked({"clone3-newuser"});
}

TEST_F(Namespaces, Setns) {
  expect_blocked({"setns"}, root_only());
}

TEST_F(Namespaces, MountTmpfs) {
  expect_blocked({"mount-tmpfs", g->base + "/mnt"}, root_only());
}

TEST_F(Namespaces, Fsopen) {
  expect_blocked({"fsopen"}, root_only());
}

TEST_F(Namespaces, PivotRoot) {
  expect_blocked({"pivot-root"}, root_only());
}

TEST_F(Namespaces, Chroot) {
  expect_blocked({"chroot", g->base + "/mnt"}, root_only());
}

TEST_F(Namespaces, OpenByHandle) {
  expect_blocked({"open-by-handle"}, root_only());
}

// ---------------------------------------------------------------------------------------------
// THREATS 8: other processes' memory, the supervisor's memory, signals to the host.

TEST_F(ProcessAccess, PtraceChild) {
  expect_blocked({"ptrace-child"});
}

TEST_F(ProcessAccess, ProcessVmReadvChild) {
  expect_blocked({"process-vm-readv"});
}

TEST_F(ProcessAccess, ProcMemOfHostProcess) {
  Child victim = start_victim();
  ASSERT_GT(victim.pid, 0);
  expect_blocked({"proc-mem", std::to_string(victim.pid)}, sandbox_user_too());
  kill_child(victim);
  finish(victim);
}

// Outside proof for a probe aimed at pid 1 (ARGS name it): the host's init, read as root; where
// even root may not (as on this kind of VM), pid 1 of a fresh pid namespace that is an ordinary
// process of uid 65534, like airlock's init is inside (the probe runs as its child).
Outcome prove_on_pid1(const Strings& args) {
  Outcome host = outside(args);
  if (host.reached() || ::access("/usr/bin/unshare", X_OK) != 0) return host;
  std::cout << "[ note     ] host pid 1 is unreadable here (" << first_line(host.output)
            << "); proving on pid 1 of a new pid namespace\n";
  Spawn spec;
  spec.argv = {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "--"};
  const Strings user = as_sandbox_user();
  spec.argv.insert(spec.argv.end(), user.begin(), user.end());
  spec.argv.insert(spec.argv.end(), {"/bin/sh", "-c", "\"$0\" \"$@\"; exit $?", g->probe});
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = child_env(g->home);
  spec.cwd = "/";
  return run(spec);
}

// Inside, pid 1 is airlock's init: a part of the supervisor, running as the sandbox user.
TEST_F(ProcessAccess, ProcMemOfPid1) {
  if (!g->root) GTEST_SKIP() << "the outside proof needs root";
  Outcome out = prove_on_pid1({"proc-mem", "1"});
  ASSERT_TRUE(out.reached()) << out.describe();
  Outcome in = inside({"proc-mem", "1"});
  EXPECT_TRUE(in.blocked()) << in.describe();
}

TEST_F(ProcessAccess, KillHostProcess) {
  Child victim = start_victim();
  ASSERT_GT(victim.pid, 0);
  Outcome out = outside({"kill-pid", std::to_string(victim.pid), "15"});
  ASSERT_TRUE(out.reached()) << out.describe();
  Outcome killed = finish(victim, milliseconds(3000));
  ASSERT_EQ(killed.code, 128 + SIGTERM) << "the victim did not die outside:\n" << killed.describe();

  Child survivor = start_victim();
  ASSERT_GT(survivor.pid, 0);
  Outcome in = inside({"kill-pid", std::to_string(survivor.pid), "15"});
  EXPECT_TRUE(in.blocked()) << in.describe();
  EXPECT_TRUE(alive(survivor.pid)) << "airlock let the sandbox kill a host process";
  kill_child(survivor);
  finish(survivor);
}

TEST_F(ProcessAccess, SignalHarness) {
  expect_blocked({"kill-pid", pid_text(), "0"}, root_only());
}

// ---------------------------------------------------------------------------------------------
// THREATS 9: kernel attack surface, personality, other syscall ABIs.

TEST_F(KernelSurface, BpfMapCreate) {
  expect_blocked({"bpf-map"}, root_only());
}

TEST_F(KernelSurface, PerfEventOpen) {
  expect_blocked({"perf-event"});
}

TEST_F(KernelSurface, AddKey) {
  expect_blocked({"add-key"});
}

TEST_F(KernelSurface, Keyctl) {
  expect_blocked({"keyctl"});
}

TEST_F(KernelSurface, RequestKey) {
  expect_blocked({"request-key"});
}

TEST_F(KernelSurface, Userfaultfd) {
  expect_blocked({"userfaultfd"}, root_only());
}

TEST_F(KernelSurface, FinitModule) {
  expect_blocked(
      {"finit-module"},
      unsupported_if("ENOSYS", "the kernel has no module support (CONFIG_MODULES)", true));
}

TEST_F(KernelSurface, InitModule) {
  expect_blocked(
      {"init-module"},
      unsupported_if("ENOSYS", "the kernel has no module support (CONFIG_MODULES)", true));
}

TEST_F(KernelSurface, DeleteModule) {
  expect_blocked(
      {"delete-module"},
      unsupported_if("ENOSYS", "the kernel has no module support (CONFIG_MODULES)", true));
}

TEST_F(KernelSurface, KexecLoad) {
  expect_blocked({"kexec-load"},
                 unsupported_if("ENOSYS", "the kernel has no kexec (CONFIG_KEXEC)", true));
}

TEST_F(KernelSurface, KexecFileLoad) {
  expect_blocked(
      {"kexec-file-load"},
      unsupported_if("ENOSYS", "the kernel has no kexec_file_load (CONFIG_KEXEC_FILE)", true));
}

TEST_F(KernelSurface, PersonalityReadImpliesExec) {
  expect_blocked({"personality-read-implies-exec"});
}

TEST_F(KernelSurface, PersonalityMmapPageZero) {
  expect_blocked({"personality-mmap-page-zero"});
}

// The filter lets personality() through when bit 31 is set (to keep the 0xffffffff query
// working); the kernel stores any other bits of such a value as the new persona.
TEST_F(KernelSurface, PersonalityReadImpliesExecWithBit31) {
  expect_blocked({"personality-read-implies-exec-bit31"});
}

// An i386 syscall must kill the agent (SIGSYS): airlock exits 128 + 31.
TEST_F(KernelSurface, Int80) {
  Outcome out = outside({"int80"});
  if (out.code == 128 + SIGSEGV)
    GTEST_SKIP() << "the kernel has no IA32 emulation (int 0x80 faults)";
  if (out.blocked() && contains(out.output, "ENOSYS"))
    GTEST_SKIP() << "IA32 emulation is disabled (ia32_emulation=0)";
  ASSERT_TRUE(out.reached()) << out.describe();
  Outcome in = inside({"int80"});
  EXPECT_EQ(in.code, 128 + SIGSYS) << in.describe();
  EXPECT_FALSE(contains(in.output, "REACHED")) << in.describe();
}

TEST_F(KernelSurface, X32) {
  Outcome out = outside({"x32"});
  Outcome in = inside({"x32"});
  EXPECT_FALSE(contains(in.output, "REACHED")) << in.describe();
  EXPECT_TRUE(in.code == 128 + SIGSYS || in.blocked()) << in.describe();
  if (out.blocked() && contains(out.output, "ENOSYS")) {
    GTEST_SKIP() << "the kernel has no x32 ABI (outside: \"" << first_line(out.output)
                 << "\"; inside: exit " << in.code << ")";
  }
  ASSERT_TRUE(out.reached()) << out.describe();
  EXPECT_EQ(in.code, 128 + SIGSYS) << in.describe();
}

// ---------------------------------------------------------------------------------------------
// THREATS 10: terminal injection. The probe's controlling terminal is a pty of the harness's,
// outside and inside (with a tty on stdin, airlock keeps the session for job control).

Expect on_pty() {
  Expect expect;
  expect.out.pty = true;
  expect.in.pty = true;
  return expect;
}

TEST_F(Terminal, Tiocsti) {
  expect_blocked({"tiocsti"}, on_pty());
}

TEST_F(Terminal, TiocstiWithHighBitsInRequest) {
  expect_blocked({"tiocsti-high-bits"}, on_pty());
}

TEST_F(Terminal, Tioclinux) {
  expect_blocked({"tioclinux"}, on_pty());
}

// ---------------------------------------------------------------------------------------------
// THREATS 11: secrets. HOME is a fake one owned by the sandbox user.

TEST_F(Secrets, SshKey) {
  expect_blocked({"read-file", g->home + "/.ssh/id_rsa", g->secret}, sandbox_user_too());
}

TEST_F(Secrets, AwsCredentials) {
  expect_blocked({"read-file", g->home + "/.aws/credentials", g->secret}, sandbox_user_too());
}

TEST_F(Secrets, Netrc) {
  expect_blocked({"read-file", g->home + "/.netrc", g->secret}, sandbox_user_too());
}

// When the workspace is HOME, the hidden paths are visible and must come out empty.
void expect_hidden_in_home_workspace(const std::string& relative) {
  const std::string workspace = make_workspace("home");
  make_dir(workspace + "/.ssh", 0700);
  make_dir(workspace + "/.aws", 0700);
  write_text(workspace + "/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + g->secret + "\n",
             0600);
  write_text(workspace + "/.aws/credentials",
             "[default]\naws_secret_access_key = " + g->secret + "\n", 0600);
  write_text(workspace + "/.netrc", "machine example.com password " + g->secret + "\n", 0600);
  if (g->as_nobody) chown_tree(workspace, kSandboxUid, kSandboxGid);
  Expect expect;
  expect.out.home = workspace;
  expect.in.home = workspace;
  expect.in.workspace = workspace;
  expect_blocked({"read-file", workspace + "/" + relative, g->secret}, expect);
}

TEST_F(Secrets, SshKeyWhenWorkspaceIsHome) {
  expect_hidden_in_home_workspace(".ssh/id_rsa");
}

TEST_F(Secrets, AwsCredentialsWhenWorkspaceIsHome) {
  expect_hidden_in_home_workspace(".aws/credentials");
}

TEST_F(Secrets, NetrcWhenWorkspaceIsHome) {
  expect_hidden_in_home_workspace(".netrc");
}

TEST_F(Secrets, HarnessEnviron) {
  expect_blocked({"read-environ", pid_text(), "-"}, root_only());
}

// Inside, /proc/1/environ is airlock's init: the supervisor's environment.
TEST_F(Secrets, Pid1Environ) {
  if (!g->root) GTEST_SKIP() << "the outside proof needs root";
  Outcome out = prove_on_pid1({"read-environ", "1", "-"});
  ASSERT_TRUE(out.reached()) << out.describe();
  Outcome in = inside({"read-environ", "1", "-"});
  EXPECT_TRUE(in.blocked()) << in.describe();
}

TEST_F(Secrets, EtcShadow) {
  expect_blocked({"read-file", "/etc/shadow", "root:"}, root_only());
}

TEST_F(Secrets, ListRoot) {
  if (!g->root) GTEST_SKIP() << "the outside proof needs root";
  const std::string marker = ".airlock-escape-probe-" + pid_text();
  ASSERT_TRUE(write_text("/root/" + marker, "probe\n"));
  expect_blocked({"list-dir", "/root", marker});
  ::unlink(("/root/" + marker).c_str());
}

// ---------------------------------------------------------------------------------------------
// THREATS 12: host information.

TEST_F(HostInfo, ProcNetTcp) {
  expect_blocked({"proc-net-tcp", port(g->tcp4)}, sandbox_user_too());
}

TEST_F(HostInfo, ProcNetUnix) {
  expect_blocked({"proc-net-unix", g->abstract_name}, sandbox_user_too());
}

TEST_F(HostInfo, SysClassNet) {
  expect_blocked({"list-dir", "/sys/class/net", "-"}, sandbox_user_too());
}

TEST_F(HostInfo, WriteProcSysHostname) {
  expect_blocked({"write-proc-sys", "/proc/sys/kernel/hostname"}, root_only());
}

// ---------------------------------------------------------------------------------------------
// THREATS 13: writes outside the workspace, to protected files in it, through links.

TEST_F(Filesystem, WriteOutsideWorkspace) {
  const std::string target = g->outside + "/" + g->next_name("written") + ".txt";
  for (bool as_user : {false, true}) {
    if (as_user && !g->root) continue;
    OutsideOptions options;
    options.as_sandbox_user = as_user;
    Outcome out = outside({"write-file", target, g->secret}, options);
    ASSERT_TRUE(out.reached()) << out.describe();
    ASSERT_TRUE(contains(read_text(target), g->secret));
    ::unlink(target.c_str());
  }
  Outcome in = inside({"write-file", target, g->secret});
  EXPECT_TRUE(in.blocked()) << in.describe();
  EXPECT_FALSE(exists(target)) << "the sandbox wrote " << target << " on the host";
}

// Effects on the host are what count: inside, HOME and /tmp are private tmpfs, so the write
// may well succeed there; the host's file must not change.
void expect_host_file_untouched(const std::string& target) {
  const std::string original = read_text(target);
  OutsideOptions options;
  options.as_sandbox_user = g->root;
  Outcome out = outside({"write-file", target, g->secret}, options);
  ASSERT_TRUE(out.reached()) << out.describe();
  ASSERT_TRUE(contains(read_text(target), g->secret));
  if (original.empty()) {
    ::unlink(target.c_str());
  } else {
    write_text(target, original);
  }
  Outcome in = inside({"write-file", target, g->secret});
  EXPECT_EQ(read_text(target), original) << "the sandbox changed the host's " << target << ":\n"
                                         << in.describe();
  EXPECT_NE(in.code, 3) << in.describe();
}

TEST_F(Filesystem, WriteHomeBashrcOutsideWorkspace) {
  expect_host_file_untouched(g->home + "/.bashrc");
}

TEST_F(Filesystem, WriteHostTmp) {
  const std::string target = "/tmp/airlock-probe-" + pid_text() + "-written.txt";
  expect_host_file_untouched(target);
  ::unlink(target.c_str());
}

// Writes RELATIVE (in a fresh workspace each time); the host's copy must stay as it was.
void expect_protected(const std::string& relative) {
  const std::string proof = make_workspace("proof");
  Outcome out = outside({"write-file", proof + "/" + relative, g->secret}, in_directory(proof));
  ASSERT_TRUE(out.reached()) << out.describe();
  ASSERT_TRUE(contains(read_text(proof + "/" + relative), g->secret));
  const std::string workspace = make_workspace("protected");
  const std::string original = read_text(workspace + "/" + relative);
  const bool existed = exists(workspace + "/" + relative);
  Outcome in =
      inside({"write-file", workspace + "/" + relative, g->secret}, in_workspace(workspace));
  EXPECT_TRUE(in.blocked()) << in.describe();
  EXPECT_EQ(exists(workspace + "/" + relative), existed) << relative << " was created on the host";
  EXPECT_EQ(read_text(workspace + "/" + relative), original) << relative << " changed on the host";
}

TEST_F(Filesystem, WriteGitHook) {
  expect_protected(".git/hooks/pre-commit");
}

TEST_F(Filesystem, WriteGitConfig) {
  expect_protected(".git/config");
}

TEST_F(Filesystem, WriteWorkspaceBashrc) {
  expect_protected(".bashrc");
}

// The workspace is HOME and has no .profile yet: creating one is a shell rc file that runs
// at the user's next login, outside the sandbox.
TEST_F(Filesystem, CreateAbsentProfileWhenWorkspaceIsHome) {
  const std::string proof = make_workspace("proof", false);
  Outcome out = outside({"write-file", proof + "/.profile", g->secret}, in_directory(proof));
  ASSERT_TRUE(out.reached()) << out.describe();
  const std::string workspace = make_workspace("home", false);
  InsideOptions options;
  options.workspace = workspace;
  options.home = workspace;
  // An absent path has nothing to mount on, so the write may succeed inside; what airlock
  // guarantees is the host after the run: the file is moved aside, and the user is told.
  Outcome in = inside({"write-file", workspace + "/.profile", g->secret}, options);
  // A session's supervisor says it on its own stderr, long detached: the host state is the test.
  EXPECT_TRUE(g->via_exec || (contains(in.output, "created .profile") &&
                              contains(in.output, "moved it to .profile.airlock-quarantine-")))
      << in.describe();
  EXPECT_FALSE(exists(workspace + "/.profile"))
      << "the sandbox created ~/.profile on the host: " << read_text(workspace + "/.profile");
}

TEST_F(Filesystem, RenameGitDirectoryAndRecreateHooks) {
  const std::string proof = make_workspace("proof");
  Outcome out = outside({"rename-git"}, in_directory(proof));
  ASSERT_TRUE(out.reached()) << out.describe();
  ASSERT_TRUE(exists(proof + "/.git/hooks/pre-commit"));
  const std::string workspace = make_workspace("pinned");
  Outcome in = inside({"rename-git"}, in_workspace(workspace));
  EXPECT_TRUE(in.blocked()) << in.describe();
  EXPECT_FALSE(exists(workspace + "/.git-moved-by-probe")) << ".git was renamed on the host";
  EXPECT_FALSE(exists(workspace + "/.git/hooks/pre-commit")) << "a hook was planted on the host";
}

TEST_F(Filesystem, RenameHooksDirectoryAndRecreate) {
  const std::string proof = make_workspace("proof");
  Outcome out = outside({"rename-hooks"}, in_directory(proof));
  ASSERT_TRUE(out.reached()) << out.describe();
  const std::string workspace = make_workspace("pinned");
  Outcome in = inside({"rename-hooks"}, in_workspace(workspace));
  EXPECT_TRUE(in.blocked()) << in.describe();
  EXPECT_FALSE(exists(workspace + "/.git/hooks-moved-by-probe"))
      << ".git/hooks was renamed on the host";
  EXPECT_FALSE(exists(workspace + "/.git/hooks/pre-commit")) << "a hook was planted on the host";
}

TEST_F(Filesystem, ReplaceGitConfigByRename) {
  const std::string proof = make_workspace("proof");
  Outcome out = outside({"replace-git-config"}, in_directory(proof));
  ASSERT_TRUE(out.reached()) << out.describe();
  const std::string workspace = make_workspace("protected");
  const std::string original = read_text(workspace + "/.git/config");
  Outcome in = inside({"replace-git-config"}, in_workspace(workspace));
  EXPECT_TRUE(in.blocked()) << in.describe();
  EXPECT_EQ(read_text(workspace + "/.git/config"), original) << ".git/config changed on the host";
}

// Where the host's git looks for WORKSPACE's hooks; empty when the host has no git.
std::string git_hooks_directory(const std::string& workspace) {
  if (::access("/usr/bin/git", X_OK) != 0) return "";
  Spawn spec;
  spec.argv = {"/usr/bin/git", "-c", "safe.directory=*", "-C", workspace};
  spec.argv.insert(spec.argv.end(), {"rev-parse", "--path-format=absolute", "--git-path", "hooks"});
  spec.env = child_env(g->home);
  spec.env.push_back("GIT_CONFIG_NOSYSTEM=1");
  spec.cwd = "/";
  Outcome outcome = run(spec);
  return outcome.code == 0 ? outcome.output : "(git failed: " + outcome.output + ")";
}

// .git/commondir moves where git reads config and hooks from: .git/hooks and .git/config are
// protected, so this must be too (whatever git runs on the host later, the sandbox wrote).
TEST_F(Filesystem, RedirectGitCommonDirectory) {
  const std::string proof = make_workspace("proof");
  Outcome out = outside({"git-commondir"}, in_directory(proof));
  ASSERT_TRUE(out.reached()) << out.describe();
  const std::string proof_hooks = git_hooks_directory(proof);
  if (!proof_hooks.empty()) {
    ASSERT_EQ(proof_hooks, proof + "/.airlock-probe-git/hooks")
        << "the host's git ignores .git/commondir";
  }
  const std::string workspace = make_workspace("pinned");
  // .git/commondir does not exist at the start, so (as for .profile above) it cannot be bound
  // read-only; airlock moves what the sandbox created aside when it ends.
  Outcome in = inside({"git-commondir"}, in_workspace(workspace));
  EXPECT_TRUE(g->via_exec || contains(in.output, "moved it to .git/commondir.airlock-quarantine-"))
      << in.describe();
  EXPECT_FALSE(exists(workspace + "/.git/commondir"))
      << "the sandbox wrote .git/commondir on the host";
  if (!proof_hooks.empty()) {
    EXPECT_EQ(git_hooks_directory(workspace), workspace + "/.git/hooks")
        << "the host's git would now run hooks the sandbox wrote";
  }
}

// A victim outside the workspace, owned and writable by the sandbox user on the host.
std::string make_victim() {
  std::string victim = g->outside + "/" + g->next_name("victim") + ".txt";
  write_text(victim, "original\n");
  if (g->root && ::chown(victim.c_str(), kSandboxUid, kSandboxGid) != 0) return "";
  return victim;
}

// LINK_PROBE: "symlink-write" or "hardlink-write"; TARGET_OF(workspace): what the link points at.
template <typename TargetOf>
void expect_link_blocked(const std::string& link_probe, TargetOf target_of) {
  const std::string proof = make_workspace("proof");
  const std::string proof_target = target_of(proof);
  const std::string proof_original = read_text(proof_target);
  Strings proof_args = link_probe == "symlink-write"
                           ? Strings{link_probe, proof + "/link", proof_target, g->secret}
                           : Strings{link_probe, proof_target, proof + "/link", g->secret};
  Outcome out = outside(proof_args, in_directory(proof));
  ASSERT_TRUE(out.reached()) << out.describe();
  ASSERT_TRUE(contains(read_text(proof_target), g->secret))
      << "the write did not reach the target outside";

  const std::string workspace = make_workspace("links");
  const std::string target = target_of(workspace);
  const std::string original = read_text(target);
  const bool existed = exists(target);
  Strings args = link_probe == "symlink-write"
                     ? Strings{link_probe, workspace + "/link", target, g->secret}
                     : Strings{link_probe, target, workspace + "/link", g->secret};
  Outcome in = inside(args, in_workspace(workspace));
  EXPECT_TRUE(in.blocked()) << in.describe();
  EXPECT_EQ(exists(target), existed) << target << " was created on the host";
  EXPECT_EQ(read_text(target), original) << target << " changed on the host";
}

TEST_F(Filesystem, SymlinkToOutsideThenWrite) {
  expect_link_blocked("symlink-write", [](const std::string&) { return make_victim(); });
}

TEST_F(Filesystem, SymlinkIntoHooksThenWrite) {
  expect_link_blocked("symlink-write",
                      [](const std::string& ws) { return ws + "/.git/hooks/pre-commit"; });
}

TEST_F(Filesystem, HardlinkToOutsideThenWrite) {
  expect_link_blocked("hardlink-write", [](const std::string&) { return make_victim(); });
}

TEST_F(Filesystem, HardlinkToGitConfigThenWrite) {
  expect_link_blocked("hardlink-write", [](const std::string& ws) { return ws + "/.git/config"; });
}

// ---------------------------------------------------------------------------------------------
// THREATS 14: resource exhaustion.

TEST_F(Limits, ForkBombBoundedByMaxPids) {
  const std::string marker = "airlock-escape-fork-" + pid_text();
  if (!g->root) GTEST_SKIP() << "the outside proof needs root (RLIMIT_NPROC does not bind it)";
  Outcome out = outside({"fork-bomb", "200", marker});
  ASSERT_TRUE(out.reached()) << out.describe();
  Outcome in = inside({"fork-bomb", "200", marker}, with_policy(g->pids_policy));
  EXPECT_TRUE(in.blocked()) << in.describe();
  EXPECT_TRUE(contains(in.output, "EAGAIN")) << in.describe();
  EXPECT_TRUE(eventually(milliseconds(2000), [&] { return processes_with(marker).empty(); }))
      << "children of the fork bomb are left on the host";
}

TEST_F(Limits, MemoryBoundedByMaxMemory) {
  Outcome out = outside({"memory", "256"});
  ASSERT_TRUE(out.reached()) << out.describe();
  InsideOptions options;
  options.policy = g->memory_policy;
  if (g->root && !g->as_nobody) {
    Outcome in = inside({"memory", "256"}, options);
    EXPECT_EQ(in.code, 128 + SIGKILL) << "expected the kernel's OOM kill:\n" << in.describe();
    EXPECT_TRUE(g->via_exec || contains(in.output, "memory limit")) << in.describe();
    EXPECT_FALSE(contains(in.output, "REACHED")) << in.describe();
    return;
  }
  // Unprivileged there is no cgroup to enforce it: airlock must refuse, unless told not to.
  Outcome refused = inside({"memory", "256"}, options);
  EXPECT_EQ(refused.code, 125) << refused.describe();
  EXPECT_TRUE(contains(refused.output, "memory")) << refused.describe();
  EXPECT_FALSE(contains(refused.output, "REACHED")) << refused.describe();
  options.flags = {"--allow-degraded"};
  Outcome degraded = inside({"memory", "256"}, options);
  EXPECT_TRUE(degraded.reached()) << "with --allow-degraded the sandbox should run:\n"
                                  << degraded.describe();
  EXPECT_TRUE(contains(degraded.output, "degraded")) << degraded.describe();
}

TEST_F(Limits, FdExhaustionBoundedByMaxOpenFiles) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_max <= 10000) {
    limit.rlim_max = 20000;
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_cur, limit.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      GTEST_SKIP() << "the harness's RLIMIT_NOFILE hard limit is below 10001 and cannot be raised";
    }
  }
  expect_blocked({"fd-exhaust", "10000"});
}

TEST_F(Limits, NoCapabilities) {
  expect_blocked({"capabilities"}, root_only());
}

// ---------------------------------------------------------------------------------------------
// THREATS 15: nothing of the sandbox survives airlock.

// Outside, the same daemon outlives its parent (then the harness kills it).
void prove_daemon_outside(const std::string& marker) {
  const std::string beat = g->outside + "/" + g->next_name("daemon-beat");
  Outcome out = outside({"daemon", beat, marker});
  ASSERT_TRUE(out.reached()) << out.describe();
  const bool survived =
      eventually(milliseconds(1000), [&] { return !processes_with(marker).empty(); });
  const std::string first = read_text(beat);
  const bool beating = eventually(milliseconds(1000), [&] { return read_text(beat) != first; });
  for (pid_t pid : processes_with(marker)) ::kill(pid, SIGKILL);
  ASSERT_TRUE(survived) << "the daemon did not outlive its parent outside airlock";
  ASSERT_TRUE(beating) << "the daemon did not keep writing outside airlock";
  ASSERT_TRUE(eventually(milliseconds(2000), [&] { return processes_with(marker).empty(); }));
}

// airlock's cgroup directories (cgroup v1, pids and memory), as "controller/path".
std::vector<std::string> airlock_cgroups() {
  std::vector<std::string> found;
  std::string own = read_text("/proc/self/cgroup");
  size_t start = 0;
  while (start < own.size()) {
    size_t end = own.find('\n', start);
    if (end == std::string::npos) end = own.size();
    const std::string line = own.substr(start, end - start);
    start = end + 1;
    size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controller = line.substr(first + 1, second - first - 1);
    if (controller != "pids" && controller != "memory") continue;
    std::string dir = "/sys/fs/cgroup/" + controller + line.substr(second + 1);
    if (dir.back() == '/') dir.pop_back();
    DIR* listing = ::opendir(dir.c_str());
    if (listing == nullptr) continue;
    while (dirent* entry = ::readdir(listing)) {
      if (std::string(entry->d_name).rfind("airlock-", 0) == 0)
        found.push_back(dir + "/" + entry->d_name);
    }
    ::closedir(listing);
  }
  return found;
}

TEST_F(Supervisor, KillingAirlockKillsEverySandboxProcess) {
  if (g->via_exec) {
    GTEST_SKIP() << "exec: killing the exec client kills its command's group; a killed session "
                    "taking every process with it is tests/session's";
  }
  const std::string marker =
      "airlock-escape-daemon-" + pid_text() + "-" + std::to_string(++g->counter);
  prove_daemon_outside(marker);
  if (HasFatalFailure()) return;
  const std::string workspace = make_workspace("daemon");
  const std::string beat = workspace + "/daemon-beat";
  const std::vector<std::string> cgroups_before = airlock_cgroups();
  Child airlock = start(inside_spec({"daemon", beat, marker, "stay"}, in_workspace(workspace)));
  ASSERT_GT(airlock.pid, 0);
  const bool started = eventually(
      milliseconds(5000), [&] { return exists(beat) && processes_with(marker).size() >= 2; });
  if (!started) {
    kill_child(airlock);
    FAIL() << "the daemon did not start inside:\n" << finish(airlock).describe();
  }
  ::kill(airlock.pid, SIGKILL);
  const bool gone = eventually(milliseconds(2000), [&] { return processes_with(marker).empty(); });
  std::vector<pid_t> left = processes_with(marker);
  for (pid_t pid : left) ::kill(pid, SIGKILL);
  Outcome outcome = finish(airlock, milliseconds(5000));
  EXPECT_TRUE(gone) << left.size() << " sandbox process(es) survived airlock's SIGKILL by 2 s\n"
                    << outcome.describe();
  const std::string last = read_text(beat);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(read_text(beat), last) << "something in the sandbox still writes the workspace";
  // Killed, airlock cannot remove its cgroup: not an escape, but say so and tidy up.
  for (const std::string& cgroup : airlock_cgroups()) {
    if (std::find(cgroups_before.begin(), cgroups_before.end(), cgroup) != cgroups_before.end())
      continue;
    bool removed = false;
    eventually(milliseconds(1000), [&] {
      removed = ::rmdir(cgroup.c_str()) == 0;
      return removed || errno != EBUSY;
    });
    if (removed)
      std::cout << "[ note     ] airlock left its empty cgroup " << cgroup
                << " behind; removed it\n";
  }
}

TEST_F(Supervisor, AgentExitKillsItsDaemons) {
  const std::string marker =
      "airlock-escape-daemon-" + pid_text() + "-" + std::to_string(++g->counter);
  prove_daemon_outside(marker);
  if (HasFatalFailure()) return;
  const std::string workspace = make_workspace("daemon");
  Outcome in = inside({"daemon", workspace + "/daemon-beat", marker}, in_workspace(workspace));
  EXPECT_TRUE(in.reached()) << "the daemon should start inside (and die with the agent):\n"
                            << in.describe();
  const bool gone = eventually(milliseconds(2000), [&] { return processes_with(marker).empty(); });
  std::vector<pid_t> left = processes_with(marker);
  for (pid_t pid : left) ::kill(pid, SIGKILL);
  EXPECT_TRUE(gone) << left.size() << " daemon(s) outlived the sandbox";
}

// ---------------------------------------------------------------------------------------------
// THREATS 16: descriptors of airlock's caller.

void expect_descriptor_not_inherited(int fd, int number) {
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Expect expect;
  expect.out.fds = {{fd, number}};
  expect.in.fds = {{fd, number}};
  Outcome out = outside({"inherited-fds"}, expect.out);
  ASSERT_TRUE(out.reached()) << out.describe();
  ASSERT_TRUE(contains(out.output, " " + std::to_string(number) + "->")) << out.describe();
  Outcome in = inside({"inherited-fds"}, expect.in);
  EXPECT_TRUE(in.blocked()) << in.describe();
  ::close(fd);
}

TEST_F(Descriptors, InheritedFile) {
  // Opened without O_CLOEXEC, the way a careless caller leaks it.
  const std::string path = g->outside + "/" + g->next_name("inherited") + ".txt";
  expect_descriptor_not_inherited(::open(path.c_str(), O_RDWR | O_CREAT, 0600), 7);
}

TEST_F(Descriptors, InheritedConnectedSocket) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(g->tcp4);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0)
      << std::strerror(errno);
  expect_descriptor_not_inherited(fd, 9);
}

}  // namespace
