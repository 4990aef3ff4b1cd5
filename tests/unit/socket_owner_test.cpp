// find_socket_owner on real connections: in the test's own namespaces, and across a real network
// + pid namespace whose sock_diag socket and listener are passed out with SCM_RIGHTS, the way the
// proxy receives them. Needs root for the namespace test (as the whole unit suite does).
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/file_io.h"
#include "common/unique_fd.h"
#include "egress/ip_address.h"
#include "egress/socket_owner.h"

namespace airlock::egress {
namespace {

constexpr int kWaitMs = 10000;

bool wait_readable(int fd, int timeout_ms) {
  pollfd ready{fd, POLLIN, 0};
  return ::poll(&ready, 1, timeout_ms) == 1;
}

// The child dies with the test process (a failed ASSERT must not leave it behind).
void die_with_parent(pid_t parent) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) _exit(100);
}

// A forked process, killed and reaped when the test ends, however it ends.
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  // Waits for it to end by itself.
  void reap() {
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe make_pipe() {
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

sockaddr_storage address_of(const char* ip, uint16_t port, socklen_t* length) {
  return IpAddress::parse(ip).value().to_sockaddr(port, length);
}

// A listener on `ip`, port chosen by the kernel; *address receives where it listens.
UniqueFd listen_on(const char* ip, sockaddr_storage* address) {
  socklen_t length = 0;
  *address = address_of(ip, 0, &length);
  UniqueFd fd(::socket(address->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(address), length) != 0 ||
      ::listen(fd.get(), 8) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(address), &length) != 0) {
    return {};
  }
  return fd;
}

// The peer address accept() gives for the next connection (what the proxy starts from).
std::optional<sockaddr_storage> accept_peer(int listener, UniqueFd* accepted) {
  if (!wait_readable(listener, kWaitMs)) return std::nullopt;
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  accepted->reset(::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC));
  if (!accepted->valid()) return std::nullopt;
  return peer;
}

sockaddr_storage with_address(const sockaddr_storage& peer, const char* ip) {
  socklen_t length = 0;
  return address_of(ip, port_of(peer), &length);
}

// A forked copy of this test binary that connects to `target` from a socket of `family`, writes
// one byte on `ready`, and exits when `go` is closed (or when killed).
struct Connector {
  ChildProcess process{-1};
  UniqueFd go;  // close to make the client exit
};

Connector fork_connector(int family, const sockaddr_storage& target) {
  Pipe ready = make_pipe();
  Pipe go = make_pipe();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    die_with_parent(parent);
    go.write.reset();
    const int client = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const socklen_t length =
        target.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (client < 0 || ::connect(client, reinterpret_cast<const sockaddr*>(&target), length) != 0) {
      _exit(101);
    }
    const char byte = 'c';
    if (::write(ready.write.get(), &byte, 1) != 1) _exit(102);
    char ignored = 0;
    while (::read(go.read.get(), &ignored, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  Connector connector{ChildProcess(pid), {}};  // pid -1 when fork failed: no go fd either
  ready.write.reset();
  char byte = 0;
  if (!wait_readable(ready.read.get(), kWaitMs) || ::read(ready.read.get(), &byte, 1) != 1) {
    return connector;  // no go fd: the caller's check fails
  }
  connector.go = std::move(go.write);
  return connector;
}

std::string own_exe() {
  char path[4096] = {};
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return length > 0 ? std::string(path, static_cast<size_t>(length)) : "";
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A connection from a forked client to a listener on `listen_ip` (dialled as `dial_ip`), accepted
// here: what the proxy holds when it asks.
struct AcceptedClient {
  Connector client;
  UniqueFd accepted;
  std::optional<sockaddr_storage> peer;  // nullopt when listening, connecting or accepting failed
};

AcceptedClient accept_forked_client(const char* listen_ip, int client_family, const char* dial_ip) {
  sockaddr_storage listening{};
  const UniqueFd listener = listen_on(listen_ip, &listening);
  if (!listener.valid()) return {};
  AcceptedClient connection{
      fork_connector(client_family, with_address(listening, dial_ip)), {}, {}};
  if (connection.client.go.valid()) {
    connection.peer = accept_peer(listener.get(), &connection.accepted);
  }
  return connection;
}

// Checks that find_socket_owner names the forked client, a copy of this test binary.
void expect_finds_forked_client(const char* listen_ip, int client_family, const char* dial_ip) {
  const AcceptedClient connection = accept_forked_client(listen_ip, client_family, dial_ip);
  ASSERT_TRUE(connection.peer.has_value()) << listen_ip << " <- " << dial_ip;
  auto sock_diag = open_sock_diag();
  ASSERT_TRUE(sock_diag.ok()) << sock_diag.error().message;

  const auto owner = find_socket_owner(sock_diag->get(), *connection.peer, ::getpid());

  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->host_pid, connection.client.process.pid());
  EXPECT_EQ(owner->sandbox_pid, connection.client.process.pid());  // same pid namespace here
  EXPECT_EQ(owner->exe, own_exe());
  EXPECT_TRUE(ends_with(owner->exe, "/unit_tests")) << owner->exe;
  ASSERT_FALSE(owner->argv.empty());
  EXPECT_EQ(owner->argv[0], program_invocation_name);
}

TEST(SocketOwner, FindsClientProcessOverIpv4) {
  expect_finds_forked_client("127.0.0.1", AF_INET, "127.0.0.1");
}

TEST(SocketOwner, FindsClientProcessOverIpv6) {
  expect_finds_forked_client("::1", AF_INET6, "::1");
}

// An AF_INET6 socket dialling ::ffff:127.0.0.1 reaches an IPv4 listener, whose accept() reports
// 127.0.0.1; inet_diag files the socket under AF_INET6.
TEST(SocketOwner, FindsIpv6SocketConnectedToV4MappedAddress) {
  expect_finds_forked_client("127.0.0.1", AF_INET6, "::ffff:127.0.0.1");
}

TEST(SocketOwner, UnknownAddressIsNotFoundQuickly) {
  auto sock_diag = open_sock_diag();
  ASSERT_TRUE(sock_diag.ok()) << sock_diag.error().message;
  for (const char* ip : {"127.0.0.1", "::1", "192.0.2.1"}) {
    socklen_t length = 0;
    const auto start = std::chrono::steady_clock::now();
    // Source port 1 (tcpmux) is never an ephemeral port.
    const auto owner = find_socket_owner(sock_diag->get(), address_of(ip, 1, &length), ::getpid());
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(owner.has_value()) << ip << " owned by pid " << owner->host_pid;
    EXPECT_LT(elapsed, std::chrono::milliseconds(200)) << ip;
  }
}

// The kernel filters the dump on the source port only; the address must match too.
TEST(SocketOwner, SamePortOnOtherAddressIsNotFound) {
  const AcceptedClient connection = accept_forked_client("127.0.0.1", AF_INET, "127.0.0.1");
  ASSERT_TRUE(connection.peer.has_value());
  auto sock_diag = open_sock_diag();
  ASSERT_TRUE(sock_diag.ok());

  const auto other =
      find_socket_owner(sock_diag->get(), with_address(*connection.peer, "127.0.0.2"), ::getpid());
  const auto real = find_socket_owner(sock_diag->get(), *connection.peer, ::getpid());

  EXPECT_FALSE(other.has_value());
  ASSERT_TRUE(real.has_value());
  EXPECT_EQ(real->host_pid, connection.client.process.pid());
}

// The client exits while the proxy still holds its end: the orphaned socket has no owner.
TEST(SocketOwner, ClosedClientIsNotFound) {
  AcceptedClient connection = accept_forked_client("127.0.0.1", AF_INET, "127.0.0.1");
  ASSERT_TRUE(connection.peer.has_value());
  auto sock_diag = open_sock_diag();
  ASSERT_TRUE(sock_diag.ok());
  const auto before = find_socket_owner(sock_diag->get(), *connection.peer, ::getpid());
  ASSERT_TRUE(before.has_value());
  ASSERT_EQ(before->host_pid, connection.client.process.pid());

  connection.client.go.reset();
  connection.client.process.reap();
  const auto after = find_socket_owner(sock_diag->get(), *connection.peer, ::getpid());

  EXPECT_FALSE(after.has_value()) << "still owned by pid " << after->host_pid;
}

// ---- across namespaces ----

constexpr const char* kPython = "/usr/bin/python3";
// Connects to the listener inside the namespace, reports its own (in-namespace) pid, then waits.
constexpr const char* kClientScript =
    "import os, socket, sys, time\n"
    "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
    "os.write(1, b'%d\\n' % os.getpid())\n"
    "time.sleep(60)\n";

// What the namespace helper sends out, with the sock_diag socket and the listener as SCM_RIGHTS.
struct Handoff {
  pid_t init_pid = 0;  // the new pid namespace's pid 1, as this test's namespace numbers it
  uint16_t port = 0;   // of the listener, 127.0.0.1 inside the namespace
};

bool bring_loopback_up() {
  const UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq request{};
  std::memcpy(request.ifr_name, "lo", 3);
  if (!fd.valid() || ::ioctl(fd.get(), SIOCGIFFLAGS, &request) != 0) return false;
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  return ::ioctl(fd.get(), SIOCSIFFLAGS, &request) == 0;
}

// A Handoff with room for its two fds, ready for sendmsg/recvmsg.
struct HandoffMessage {
  static constexpr size_t kRightsLength = CMSG_LEN(2 * sizeof(int));
  Handoff payload;
  iovec part{&payload, sizeof payload};
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  msghdr header{};

  HandoffMessage() {
    header.msg_iov = &part;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
  }
  HandoffMessage(const HandoffMessage&) = delete;  // points into itself
  HandoffMessage& operator=(const HandoffMessage&) = delete;
};

bool send_handoff(int channel, const Handoff& handoff, int sock_diag_fd, int listener_fd) {
  HandoffMessage message;
  message.payload = handoff;
  cmsghdr* rights = CMSG_FIRSTHDR(&message.header);
  rights->cmsg_level = SOL_SOCKET;
  rights->cmsg_type = SCM_RIGHTS;
  rights->cmsg_len = HandoffMessage::kRightsLength;
  const int fds[2] = {sock_diag_fd, listener_fd};
  std::memcpy(CMSG_DATA(rights), fds, sizeof fds);
  return ::sendmsg(channel, &message.header, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof handoff);
}

bool receive_handoff(int channel, Handoff* handoff, UniqueFd* sock_diag, UniqueFd* listener) {
  HandoffMessage message;
  if (!wait_readable(channel, kWaitMs) || ::recvmsg(channel, &message.header, MSG_CMSG_CLOEXEC) !=
                                              static_cast<ssize_t>(sizeof *handoff)) {
    return false;
  }
  const cmsghdr* rights = CMSG_FIRSTHDR(&message.header);
  if (rights == nullptr || rights->cmsg_type != SCM_RIGHTS ||
      rights->cmsg_len != HandoffMessage::kRightsLength) {
    return false;
  }
  int fds[2] = {-1, -1};
  std::memcpy(fds, CMSG_DATA(rights), sizeof fds);
  sock_diag->reset(fds[0]);
  listener->reset(fds[1]);
  *handoff = message.payload;
  return true;
}

// pid 1 of the new pid namespace: forks the python client (pid 2) with stdout on `output`, then
// waits; it dies with the helper, which takes the whole namespace down.
[[noreturn]] void run_sandbox_init(uint16_t port, int output) {
  die_with_parent(0);  // the helper is outside this pid namespace: getppid() says 0
  const std::string port_text = std::to_string(port);
  const pid_t client = ::fork();
  if (client == 0) {
    if (::dup2(output, STDOUT_FILENO) < 0) _exit(110);
    ::execl(kPython, kPython, "-c", kClientScript, port_text.c_str(), nullptr);
    _exit(111);
  }
  for (;;) {
    if (::waitpid(-1, nullptr, 0) < 0 && errno == ECHILD) _exit(0);
  }
}

// The helper that enters the sandbox's namespaces, like the one the proxy gets its fds from.
[[noreturn]] void run_namespace_helper(pid_t parent, int channel, int output) {
  die_with_parent(parent);
  if (::unshare(CLONE_NEWNET | CLONE_NEWPID) != 0) _exit(120);
  if (!bring_loopback_up()) _exit(121);
  auto sock_diag = open_sock_diag();
  if (!sock_diag.ok()) _exit(122);
  sockaddr_storage listening{};
  const UniqueFd listener = listen_on("127.0.0.1", &listening);
  if (!listener.valid()) _exit(123);
  const pid_t init = ::fork();
  if (init == 0) run_sandbox_init(port_of(listening), output);
  if (init < 0) _exit(124);
  if (!send_handoff(channel, Handoff{init, port_of(listening)}, sock_diag->get(), listener.get())) {
    _exit(125);
  }
  // Never reaps init: its pid stays reserved until this helper dies (then init dies too).
  for (;;) ::pause();
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  const std::string wanted = "\nPPid:\t" + std::to_string(parent) + "\n";
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return children;
  while (const dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    const auto status = read_file(std::string("/proc/") + entry->d_name + "/status");
    if (status.ok() && status->find(wanted) != std::string::npos) {
      children.push_back(std::stoi(entry->d_name));
    }
  }
  ::closedir(proc);
  return children;
}

std::optional<pid_t> read_reported_pid(int output) {
  std::string line;
  char byte = 0;
  while (line.size() < 16 && wait_readable(output, kWaitMs) && ::read(output, &byte, 1) == 1) {
    if (byte == '\n') return std::stoi(line);
    line.push_back(byte);
  }
  return std::nullopt;
}

TEST(SocketOwner, FindsProcessInsideOtherNetworkAndPidNamespace) {
  ASSERT_EQ(::geteuid(), 0U) << "needs root for unshare(CLONE_NEWNET | CLONE_NEWPID)";
  int channel[2] = {-1, -1};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel), 0);
  const UniqueFd channel_out(channel[0]);
  UniqueFd channel_in(channel[1]);
  Pipe output = make_pipe();
  const pid_t parent = ::getpid();
  const pid_t helper_pid = ::fork();
  ASSERT_GE(helper_pid, 0);
  if (helper_pid == 0) run_namespace_helper(parent, channel_in.get(), output.write.get());
  const ChildProcess helper(helper_pid);
  channel_in.reset();
  output.write.reset();

  Handoff handoff;
  UniqueFd sock_diag;
  UniqueFd listener;
  ASSERT_TRUE(receive_handoff(channel_out.get(), &handoff, &sock_diag, &listener));
  const auto reported_pid = read_reported_pid(output.read.get());
  ASSERT_TRUE(reported_pid.has_value()) << "the python client did not connect";
  UniqueFd accepted;
  const auto peer = accept_peer(listener.get(), &accepted);
  ASSERT_TRUE(peer.has_value());
  const std::vector<pid_t> clients = children_of(handoff.init_pid);
  ASSERT_EQ(clients.size(), 1U);

  const auto owner = find_socket_owner(sock_diag.get(), *peer, handoff.init_pid);

  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->host_pid, clients[0]);
  EXPECT_EQ(owner->sandbox_pid, *reported_pid);
  EXPECT_EQ(owner->sandbox_pid, 2);  // init is 1, its first child 2
  EXPECT_NE(owner->host_pid, owner->sandbox_pid);
  EXPECT_EQ(owner->exe.rfind("/usr/bin/python3", 0), 0U) << owner->exe;
  const std::vector<std::string> argv = {kPython, "-c", kClientScript,
                                         std::to_string(handoff.port)};
  EXPECT_EQ(owner->argv, argv);

  // Controls: a sock_diag socket of this namespace does not see the sandbox's socket, and the
  // client is not a process of this test's pid namespace.
  auto host_sock_diag = open_sock_diag();
  ASSERT_TRUE(host_sock_diag.ok());
  EXPECT_FALSE(find_socket_owner(host_sock_diag->get(), *peer, handoff.init_pid).has_value());
  EXPECT_FALSE(find_socket_owner(sock_diag.get(), *peer, ::getpid()).has_value());
}

}  // namespace
}  // namespace airlock::egress
