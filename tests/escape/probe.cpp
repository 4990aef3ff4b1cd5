// airlock-probe NAME [ARGS]: performs one escape attempt from THREATS.md ("From inside the
// sandbox") and says what happened, on one line:
//   exit 0  "REACHED <what>"  the action worked (the kernel really performed it)
//   exit 1  "BLOCKED <why>"   the action was refused (an errno name or a reason)
//   exit 3  "PROBE-ERROR <why>" bad usage, or the probe could not set itself up
// The harness (escape_test.cpp) runs each probe outside airlock first (it must reach) and then
// inside `airlock run` (it must be blocked). Syscall probes use the rule "the kernel ran it
// unless it answered EPERM, EACCES or ENOSYS" where a real success would be harmful or needs
// hardware: such probes pass a bogus argument and count any other errno (EBADF, ENOENT,
// EINVAL...) as reached, because the kernel got past its permission checks to look at it.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_alg.h>
#include <linux/if_ether.h>
#include <linux/inet_diag.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Args = std::vector<std::string>;

constexpr int kReached = 0;
constexpr int kBlocked = 1;
constexpr int kProbeError = 3;
constexpr int kIoTimeoutMs = 1500;

int say(const char* verdict, const std::string& detail, int code) {
  (void)std::printf("%s %s\n", verdict, detail.c_str());
  (void)std::fflush(stdout);
  return code;
}
int reached(const std::string& detail) {
  return say("REACHED", detail, kReached);
}
int blocked(const std::string& detail) {
  return say("BLOCKED", detail, kBlocked);
}
int probe_error(const std::string& detail) {
  return say("PROBE-ERROR", detail, kProbeError);
}

std::string errno_name(int error) {
  const char* name = strerrorname_np(error);
  return name != nullptr ? name : "errno " + std::to_string(error);
}

int blocked_errno(const std::string& what, int error) {
  return blocked(errno_name(error) + " (" + what + ")");
}

// The rule for syscalls probed with bogus arguments (see the top of the file).
int kernel_verdict(const std::string& what, long rc, int error) {
  if (rc >= 0) return reached(what + " succeeded (" + std::to_string(rc) + ")");
  if (error == EPERM || error == EACCES || error == ENOSYS) return blocked_errno(what, error);
  return reached(what + " ran in the kernel: " + errno_name(error));
}

bool parse_long(const std::string& text, long& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtol(text.c_str(), &end, 0);
  return errno == 0 && end != nullptr && *end == '\0';
}

bool parse_endpoint(const std::string& host, const std::string& port_text,
                    sockaddr_storage& address, socklen_t& length) {
  long port = 0;
  if (!parse_long(port_text, port) || port < 0 || port > 65535) return false;
  address = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(sockaddr_in);
    return true;
  }
  if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

void set_timeouts(int fd, int milliseconds) {
  timeval tv{milliseconds / 1000, static_cast<suseconds_t>(milliseconds % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Reads until EOF, a newline or the socket's receive timeout; errno is kept for the caller.
std::string read_some(int fd, int& error) {
  std::string data;
  char buffer[512];
  error = 0;
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      break;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (data.find('\n') != std::string::npos) break;
  }
  return data;
}

std::string read_text_file(const std::string& path, int& error) {
  error = 0;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = errno;
    return "";
  }
  std::string data;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      break;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Creates or truncates PATH and writes DATA; errno tells why not.
bool write_file(const std::string& path, const std::string& data, int flags = O_CREAT | O_TRUNC) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0644);
  if (fd < 0) return false;
  bool ok = write_all(fd, data);
  int saved = errno;
  if (::close(fd) != 0) ok = false;
  if (!ok) errno = saved;
  return ok;
}

void kill_and_reap(pid_t child) {
  ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
}

// A child that only waits to be killed: the target of the process-access probes.
char g_child_secret[] = "airlock-probe-child-secret";
pid_t start_sleeping_child() {
  pid_t child = ::fork();
  if (child == 0) {
    for (;;) ::pause();
  }
  return child;
}

// ---------------------------------------------------------------------------------------------
// THREATS 1: TCP connect to HOST PORT. REACHED = the host server's TOKEN came back.
int tcp_connect(const Args& args) {
  if (args.size() != 3) return probe_error("usage: tcp-connect HOST PORT TOKEN");
  sockaddr_storage address{};
  socklen_t length = 0;
  if (!parse_endpoint(args[0], args[1], address, length)) return probe_error("bad address");
  int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return blocked_errno("socket", errno);
  set_timeouts(fd, kIoTimeoutMs);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    return blocked_errno("connect " + args[0] + " port " + args[1], errno);
  }
  int error = 0;
  std::string reply = read_some(fd, error);
  ::close(fd);
  if (reply.find(args[2]) != std::string::npos)
    return reached("TCP to " + args[0] + " port " + args[1]);
  return blocked("connected, but not to the host's server (no token; " + errno_name(error) + ")");
}

// THREATS 2: UDP datagram to HOST PORT. REACHED = the host server's TOKEN came back.
int udp_echo(const Args& args) {
  if (args.size() != 3) return probe_error("usage: udp-echo HOST PORT TOKEN");
  sockaddr_storage address{};
  socklen_t length = 0;
  if (!parse_endpoint(args[0], args[1], address, length)) return probe_error("bad address");
  int fd = ::socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return blocked_errno("socket", errno);
  set_timeouts(fd, kIoTimeoutMs);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0)
    return blocked_errno("connect", errno);
  const std::string datagram = "airlock-probe udp\n";
  if (::send(fd, datagram.data(), datagram.size(), 0) < 0) return blocked_errno("send", errno);
  int error = 0;
  std::string reply = read_some(fd, error);
  ::close(fd);
  if (reply.find(args[2]) != std::string::npos)
    return reached("UDP to " + args[0] + " port " + args[1]);
  return blocked("no reply from the host's server (" + errno_name(error) + ")");
}

// THREATS 2: a DNS query for NAME to SERVER PORT. REACHED = an answer with our id came back.
int dns_query(const Args& args) {
  if (args.size() != 3) return probe_error("usage: dns-query SERVER PORT NAME");
  sockaddr_storage address{};
  socklen_t length = 0;
  if (!parse_endpoint(args[0], args[1], address, length)) return probe_error("bad address");
  const uint16_t id = static_cast<uint16_t>(::getpid() & 0xffff);
  std::string query = {static_cast<char>(id >> 8),
                       static_cast<char>(id & 0xff),
                       0x01,
                       0x00,
                       0x00,
                       0x01,
                       0x00,
                       0x00,
                       0x00,
                       0x00,
                       0x00,
                       0x00};
  std::istringstream labels(args[2]);
  std::string label;
  while (std::getline(labels, label, '.')) {
    if (label.empty() || label.size() > 63) return probe_error("bad name");
    query += static_cast<char>(label.size());
    query += label;
  }
  query += std::string("\0\0\x01\0\x01", 5);  // root label, type A, class IN
  int fd = ::socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return blocked_errno("socket", errno);
  set_timeouts(fd, kIoTimeoutMs);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0)
    return blocked_errno("connect", errno);
  if (::send(fd, query.data(), query.size(), 0) < 0) return blocked_errno("send", errno);
  unsigned char reply[512];
  ssize_t n = ::recv(fd, reply, sizeof reply, 0);
  int error = errno;
  ::close(fd);
  if (n < 0) return blocked_errno("no answer", error);
  const bool answer = n >= 12 && reply[0] == (id >> 8) && reply[1] == (id & 0xff) &&
                      (reply[2] & 0x80) != 0 && ((reply[6] << 8) | reply[7]) > 0;
  if (answer) return reached("DNS answer from " + args[0] + " port " + args[1]);
  return blocked("a reply that is not an answer to our query");
}

uint16_t icmp_checksum(const unsigned char* data, size_t length) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < length; i += 2)
    sum += static_cast<uint32_t>((data[i] << 8) | data[i + 1]);
  if (length % 2 != 0) sum += static_cast<uint32_t>(data[length - 1] << 8);
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum & 0xffff));
}

// THREATS 2: ICMP echo to HOST (raw socket, else a ping socket). REACHED = HOST replied.
int icmp_ping(const Args& args) {
  if (args.size() != 1) return probe_error("usage: icmp-ping HOST");
  sockaddr_in target{};
  target.sin_family = AF_INET;
  if (::inet_pton(AF_INET, args[0].c_str(), &target.sin_addr) != 1)
    return probe_error("bad address");
  bool raw = true;
  int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  int raw_error = errno;
  if (fd < 0) {
    raw = false;
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0)
      return blocked(errno_name(raw_error) + " (raw socket), " + errno_name(errno) +
                     " (ping socket)");
  }
  set_timeouts(fd, kIoTimeoutMs);
  unsigned char packet[sizeof(icmphdr) + 16] = {};
  auto* request = reinterpret_cast<icmphdr*>(packet);
  request->type = ICMP_ECHO;
  const uint16_t id = static_cast<uint16_t>(::getpid() & 0xffff);
  request->un.echo.id = htons(id);
  request->un.echo.sequence = htons(1);
  std::memcpy(packet + sizeof(icmphdr), "airlock-probe!!", 16);
  request->checksum = icmp_checksum(packet, sizeof packet);
  if (::sendto(fd, packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&target), sizeof target) <
      0) {
    return blocked_errno("sendto", errno);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kIoTimeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    unsigned char reply[1500];
    sockaddr_in from{};
    socklen_t from_length = sizeof from;
    ssize_t n =
        ::recvfrom(fd, reply, sizeof reply, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n < 0) return blocked_errno("no echo reply", errno);
    size_t offset = raw ? static_cast<size_t>((reply[0] & 0x0f) * 4) : 0;
    if (static_cast<size_t>(n) < offset + sizeof(icmphdr)) continue;
    const auto* answer = reinterpret_cast<const icmphdr*>(reply + offset);
    if (from.sin_addr.s_addr == target.sin_addr.s_addr && answer->type == ICMP_ECHOREPLY &&
        (!raw || ntohs(answer->un.echo.id) == id)) {
      return reached(std::string("ICMP echo reply from ") + args[0] +
                     (raw ? " (raw socket)" : " (ping socket)"));
    }
  }
  return blocked("no echo reply");
}

// THREATS 3: an AF_PACKET socket (sees every frame). REACHED = the socket exists.
int af_packet(const Args&) {
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) return blocked_errno("socket(AF_PACKET)", errno);
  return reached("AF_PACKET socket");
}

// THREATS 3: a SOCK_RAW IPv4 socket (forges and sniffs TCP). REACHED = the socket exists.
int sock_raw(const Args&) {
  int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return blocked_errno("socket(AF_INET, SOCK_RAW)", errno);
  return reached("SOCK_RAW socket");
}

// Sends one netlink request and calls ON_MESSAGE for each answer until NLMSG_DONE.
int netlink_dump(int fd, const void* request, size_t length,
                 const std::function<void(const nlmsghdr*)>& on_message) {
  if (::send(fd, request, length, 0) < 0) return errno;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0) return errno;
    auto* message = reinterpret_cast<nlmsghdr*>(buffer);
    int left = static_cast<int>(n);
    for (; NLMSG_OK(message, left); message = NLMSG_NEXT(message, left)) {
      if (message->nlmsg_type == NLMSG_DONE) return 0;
      if (message->nlmsg_type == NLMSG_ERROR) {
        const auto* error = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(message));
        return error->error != 0 ? -error->error : 0;
      }
      on_message(message);
    }
  }
}

// THREATS 3/12: NETLINK_SOCK_DIAG dump of TCP listeners. REACHED = the host listener PORT shows.
int netlink_sock_diag(const Args& args) {
  long port = 0;
  if (args.size() != 1 || !parse_long(args[0], port))
    return probe_error("usage: netlink-sock-diag PORT");
  int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return blocked_errno("socket(AF_NETLINK, NETLINK_SOCK_DIAG)", errno);
  set_timeouts(fd, kIoTimeoutMs);
  struct {
    nlmsghdr header;
    inet_diag_req_v2 body;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.body.sdiag_family = AF_INET;
  request.body.sdiag_protocol = IPPROTO_TCP;
  request.body.idiag_states = 1U << 10;  // TCP_LISTEN
  bool found = false;
  int error = netlink_dump(fd, &request, sizeof request, [&](const nlmsghdr* message) {
    const auto* socket = reinterpret_cast<const inet_diag_msg*>(NLMSG_DATA(message));
    if (ntohs(socket->id.idiag_sport) == port) found = true;
  });
  ::close(fd);
  if (found) return reached("sock_diag lists the host listener on port " + args[0]);
  if (error != 0) return blocked_errno("sock_diag dump", error);
  return blocked("sock_diag does not list port " + args[0]);
}

// THREATS 3: a NETLINK_KOBJECT_UEVENT socket bound to the kernel's broadcast group.
// REACHED = bound (it would receive every device event of the host).
int netlink_uevent(const Args&) {
  int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
  if (fd < 0) return blocked_errno("socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)", errno);
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = 1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return blocked_errno("bind", errno);
  return reached("uevent socket bound to the kernel group");
}

// THREATS 12 (and the NETLINK_ROUTE allowance of THREATS 3): RTM_GETLINK dump.
// REACHED = an interface other than lo is visible (a host interface).
int netlink_route(const Args&) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return blocked_errno("socket(AF_NETLINK, NETLINK_ROUTE)", errno);
  set_timeouts(fd, kIoTimeoutMs);
  struct {
    nlmsghdr header;
    ifinfomsg body;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.body.ifi_family = AF_UNSPEC;
  std::vector<std::string> names;
  int error = netlink_dump(fd, &request, sizeof request, [&](const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWLINK) return;
    const auto* link = reinterpret_cast<const ifinfomsg*>(NLMSG_DATA(message));
    int left = static_cast<int>(IFLA_PAYLOAD(message));
    for (const rtattr* attribute = IFLA_RTA(link); RTA_OK(attribute, left);
         attribute = RTA_NEXT(attribute, left)) {
      if (attribute->rta_type == IFLA_IFNAME)
        names.emplace_back(static_cast<const char*>(RTA_DATA(attribute)));
    }
  });
  ::close(fd);
  if (error != 0) return blocked_errno("RTM_GETLINK dump", error);
  std::string list;
  bool foreign = false;
  for (const std::string& name : names) {
    list += " " + name;
    foreign = foreign || name != "lo";
  }
  if (foreign) return reached("interfaces:" + list);
  return blocked("only lo visible (NETLINK_ROUTE works):" + list);
}

// THREATS 4: an AF_VSOCK socket (talks to the hypervisor). REACHED = the socket exists.
int af_vsock(const Args&) {
  int fd = ::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return blocked_errno("socket(AF_VSOCK)", errno);
  return reached("AF_VSOCK socket");
}

// THREATS 4: an AF_ALG socket (kernel crypto API). REACHED = the socket exists.
int af_alg(const Args&) {
  int fd = ::socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return blocked_errno("socket(AF_ALG)", errno);
  sockaddr_alg address{};
  address.salg_family = AF_ALG;
  std::memcpy(address.salg_type, "hash", 5);
  std::memcpy(address.salg_name, "sha256", 7);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  return reached(std::string("AF_ALG socket, bind sha256: ") +
                 (rc == 0 ? "ok" : errno_name(errno)));
}

// THREATS 4: an AF_BLUETOOTH HCI socket. REACHED = the socket exists.
int af_bluetooth(const Args&) {
  int fd = ::socket(AF_BLUETOOTH, SOCK_RAW | SOCK_CLOEXEC, 1 /* BTPROTO_HCI */);
  if (fd < 0) return blocked_errno("socket(AF_BLUETOOTH)", errno);
  return reached("AF_BLUETOOTH socket");
}

// THREATS 4: an AF_XDP socket (raw frames from a NIC queue). REACHED = the socket exists.
int af_xdp(const Args&) {
  int fd = ::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return blocked_errno("socket(AF_XDP)", errno);
  return reached("AF_XDP socket");
}

// THREATS 5: connect to a Unix socket: "@NAME" is abstract, anything else a path.
// REACHED = the host server's TOKEN came back.
int unix_connect(const Args& args) {
  if (args.size() != 2) return probe_error("usage: unix-connect @NAME|PATH TOKEN");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  socklen_t length = 0;
  if (args[0].size() >= sizeof address.sun_path) return probe_error("name too long");
  if (args[0][0] == '@') {
    std::memcpy(address.sun_path + 1, args[0].data() + 1, args[0].size() - 1);
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + args[0].size());
  } else {
    std::memcpy(address.sun_path, args[0].data(), args[0].size());
    length = sizeof address;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return blocked_errno("socket(AF_UNIX)", errno);
  set_timeouts(fd, kIoTimeoutMs);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0)
    return blocked_errno("connect " + args[0], errno);
  int error = 0;
  std::string reply = read_some(fd, error);
  ::close(fd);
  if (reply.find(args[1]) != std::string::npos)
    return reached("connected to the host's " + args[0]);
  return blocked("connected, but not to the host's server (no token)");
}

// THREATS 6: io_uring_setup. REACHED = a ring fd (its ops would bypass the syscall filter).
int io_uring_setup(const Args&) {
  io_uring_params params{};
  long fd = ::syscall(SYS_io_uring_setup, 4, &params);
  if (fd < 0) return blocked_errno("io_uring_setup", errno);
  return reached("io_uring ring created");
}

// THREATS 6: io_uring_enter on fd -1. REACHED = any errno but EPERM/EACCES/ENOSYS (EBADF).
int io_uring_enter(const Args&) {
  long rc = ::syscall(SYS_io_uring_enter, -1, 0, 0, 0, nullptr, 0);
  return kernel_verdict("io_uring_enter(-1)", rc, errno);
}

// THREATS 6: io_uring_register on fd -1. REACHED = any errno but EPERM/EACCES/ENOSYS (EBADF).
int io_uring_register(const Args&) {
  long rc = ::syscall(SYS_io_uring_register, -1, IORING_UNREGISTER_BUFFERS, nullptr, 0);
  return kernel_verdict("io_uring_register(-1)", rc, errno);
}

// THREATS 7: unshare(CLONE_NEWUSER). REACHED = a new user namespace (full caps inside it).
int unshare_user(const Args&) {
  if (::unshare(CLONE_NEWUSER) != 0) return blocked_errno("unshare(CLONE_NEWUSER)", errno);
  return reached("new user namespace");
}

// THREATS 7: clone(CLONE_NEWUSER). REACHED = a child was created in a new user namespace.
int clone_newuser(const Args&) {
  long child = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (child == 0) ::_exit(0);
  if (child < 0) return blocked_errno("clone(CLONE_NEWUSER)", errno);
  int status = 0;
  ::waitpid(static_cast<pid_t>(child), &status, 0);
  return reached("child in a new user namespace");
}

// THREATS 7: clone3(CLONE_NEWUSER), whose flags a seccomp filter cannot read.
// REACHED = a child was created in a new user namespace.
int clone3_newuser(const Args&) {
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } clone_args{};
  clone_args.flags = CLONE_NEWUSER;
  clone_args.exit_signal = SIGCHLD;
  long child = ::syscall(SYS_clone3, &clone_args, sizeof clone_args);
  if (child == 0) ::_exit(0);
  if (child < 0) return blocked_errno("clone3(CLONE_NEWUSER)", errno);
  int status = 0;
  ::waitpid(static_cast<pid_t>(child), &status, 0);
  return reached("clone3 child in a new user namespace");
}

// THREATS 7: setns into a namespace (our own UTS one). REACHED = setns succeeded.
int setns_probe(const Args&) {
  int fd = ::open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return probe_error("open /proc/self/ns/uts: " + errno_name(errno));
  if (::setns(fd, CLONE_NEWUTS) != 0) return blocked_errno("setns", errno);
  return reached("setns(CLONE_NEWUTS)");
}

// THREATS 7: mount a tmpfs on DIR (then unmount it). REACHED = the mount happened.
int mount_tmpfs(const Args& args) {
  if (args.size() != 1) return probe_error("usage: mount-tmpfs DIR");
  if (::mount("airlock-probe", args[0].c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0) {
    return blocked_errno("mount tmpfs", errno);
  }
  ::umount2(args[0].c_str(), MNT_DETACH);
  return reached("mounted a tmpfs on " + args[0]);
}

// THREATS 7: fsopen("tmpfs"), the new mount API. REACHED = a filesystem context fd.
int fsopen_probe(const Args&) {
  long fd = ::syscall(SYS_fsopen, "tmpfs", 0);
  if (fd < 0) return blocked_errno("fsopen", errno);
  return reached("fsopen(tmpfs) context");
}

// THREATS 7: pivot_root on paths that do not exist (a real pivot would be destructive).
// REACHED = any errno but EPERM/EACCES/ENOSYS (ENOENT: it got past the capability check).
int pivot_root_probe(const Args&) {
  long rc = ::syscall(SYS_pivot_root, "/airlock-probe-absent-new", "/airlock-probe-absent-old");
  return kernel_verdict("pivot_root", rc, errno);
}

// THREATS 7: chroot into DIR. REACHED = chroot succeeded.
int chroot_probe(const Args& args) {
  if (args.size() != 1) return probe_error("usage: chroot DIR");
  if (::chroot(args[0].c_str()) != 0) return blocked_errno("chroot", errno);
  return reached("chroot " + args[0]);
}

// THREATS 7: name_to_handle_at + open_by_handle_at ("shocker": opens files by inode handle,
// around the mount view). REACHED = a file was opened from its handle.
int open_by_handle(const Args&) {
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ] = {};
  auto* handle = reinterpret_cast<file_handle*>(storage);
  handle->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (::name_to_handle_at(AT_FDCWD, "/etc/hostname", handle, &mount_id, 0) != 0) {
    return blocked_errno("name_to_handle_at", errno);
  }
  int mount_fd = ::open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (mount_fd < 0) return probe_error("open /etc: " + errno_name(errno));
  int fd = ::open_by_handle_at(mount_fd, handle, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return blocked_errno("open_by_handle_at", errno);
  return reached("opened /etc/hostname by handle");
}

// THREATS 8: PTRACE_ATTACH to a child of ours. REACHED = attached.
int ptrace_child(const Args&) {
  pid_t child = start_sleeping_child();
  if (child < 0) return probe_error("fork: " + errno_name(errno));
  long rc = ::ptrace(PTRACE_ATTACH, child, nullptr, nullptr);
  int error = errno;
  kill_and_reap(child);
  if (rc != 0) return blocked_errno("ptrace(PTRACE_ATTACH)", error);
  return reached("attached to a child");
}

// THREATS 8: process_vm_readv of a child's memory. REACHED = its secret was read.
int process_vm_readv_probe(const Args&) {
  pid_t child = start_sleeping_child();
  if (child < 0) return probe_error("fork: " + errno_name(errno));
  char copy[sizeof g_child_secret] = {};
  iovec local{copy, sizeof copy};
  iovec remote{g_child_secret, sizeof g_child_secret};
  ssize_t n = ::process_vm_readv(child, &local, 1, &remote, 1, 0);
  int error = errno;
  kill_and_reap(child);
  if (n < 0) return blocked_errno("process_vm_readv", error);
  if (std::strcmp(copy, g_child_secret) != 0) return blocked("read something else");
  return reached("read a child's memory");
}

// THREATS 8: read /proc/PID/mem at PID's first readable mapping. REACHED = bytes were read.
int proc_mem(const Args& args) {
  if (args.size() != 1) return probe_error("usage: proc-mem PID");
  const std::string dir = "/proc/" + args[0];
  int mem = ::open((dir + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (mem < 0) return blocked_errno("open " + dir + "/mem", errno);
  int error = 0;
  std::string maps = read_text_file(dir + "/maps", error);
  if (maps.empty()) return blocked_errno("read " + dir + "/maps", error != 0 ? error : ENODATA);
  std::istringstream lines(maps);
  std::string line;
  int last_error = ENODATA;
  while (std::getline(lines, line)) {
    unsigned long start = 0, end = 0;
    char permissions[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, permissions) != 3 ||
        permissions[0] != 'r')
      continue;
    unsigned char buffer[16];
    if (::pread(mem, buffer, sizeof buffer, static_cast<off_t>(start)) ==
        static_cast<ssize_t>(sizeof buffer)) {
      return reached("read 16 bytes of " + dir + "/mem");
    }
    last_error = errno;
  }
  return blocked_errno("read " + dir + "/mem", last_error);
}

// THREATS 8: kill(PID, SIG). REACHED = the kernel delivered it (kill returned 0); the harness
// also checks on the host whether its victim died.
int kill_pid(const Args& args) {
  long pid = 0, signal = 0;
  if (args.size() != 2 || !parse_long(args[0], pid) || !parse_long(args[1], signal) || pid <= 1) {
    return probe_error("usage: kill-pid PID SIGNAL");
  }
  if (::kill(static_cast<pid_t>(pid), static_cast<int>(signal)) != 0)
    return blocked_errno("kill " + args[0], errno);
  return reached("signal " + args[1] + " sent to " + args[0]);
}

// THREATS 9: bpf(BPF_MAP_CREATE). REACHED = a map fd.
int bpf_map(const Args&) {
  union bpf_attr attr {};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  long fd = ::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
  if (fd < 0) return blocked_errno("bpf(BPF_MAP_CREATE)", errno);
  return reached("BPF array map created");
}

// THREATS 9: perf_event_open of a software counter on ourselves. REACHED = an event fd.
int perf_event(const Args&) {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  long fd = ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) return blocked_errno("perf_event_open", errno);
  return reached("perf event opened");
}

// THREATS 9: add_key to our process keyring. REACHED = a key serial number.
int add_key(const Args&) {
  long key = ::syscall(SYS_add_key, "user", "airlock-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING);
  if (key < 0) return blocked_errno("add_key", errno);
  return reached("key " + std::to_string(key) + " added");
}

// THREATS 9: keyctl(KEYCTL_GET_KEYRING_ID, session). REACHED = any errno but
// EPERM/EACCES/ENOSYS (normally a keyring id).
int keyctl_probe(const Args&) {
  long rc = ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  return kernel_verdict("keyctl(KEYCTL_GET_KEYRING_ID)", rc, errno);
}

// THREATS 9: request_key for an absent key, no upcall. REACHED = any errno but
// EPERM/EACCES/ENOSYS (ENOKEY: the keyrings were searched).
int request_key(const Args&) {
  long rc = ::syscall(SYS_request_key, "user", "airlock-probe-absent", nullptr, 0);
  return kernel_verdict("request_key", rc, errno);
}

// THREATS 9: userfaultfd (stalls kernel copies: a race-exploit primitive). REACHED = an fd.
int userfaultfd(const Args&) {
  long fd = ::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return blocked_errno("userfaultfd", errno);
  return reached("userfaultfd created");
}

// THREATS 9: finit_module(-1). REACHED = any errno but EPERM/EACCES/ENOSYS (EBADF).
int finit_module(const Args&) {
  long rc = ::syscall(SYS_finit_module, -1, "", 0);
  return kernel_verdict("finit_module(-1)", rc, errno);
}

// THREATS 9: init_module of an empty image. REACHED = any errno but EPERM/EACCES/ENOSYS
// (ENOEXEC/EINVAL: the loader looked at it).
int init_module(const Args&) {
  long rc = ::syscall(SYS_init_module, nullptr, 0, "");
  return kernel_verdict("init_module(empty)", rc, errno);
}

// THREATS 9: delete_module of an absent module. REACHED = any errno but EPERM/EACCES/ENOSYS
// (ENOENT).
int delete_module(const Args&) {
  long rc = ::syscall(SYS_delete_module, "airlock_probe_absent", O_NONBLOCK);
  return kernel_verdict("delete_module", rc, errno);
}

// THREATS 9: kexec_load with unknown flags (refused after the permission check, so nothing is
// ever loaded or unloaded). REACHED = any errno but EPERM/EACCES/ENOSYS (EINVAL).
int kexec_load(const Args&) {
  long rc = ::syscall(SYS_kexec_load, 0UL, 0UL, nullptr, 0xdead0000UL);
  return kernel_verdict("kexec_load", rc, errno);
}

// THREATS 9: kexec_file_load with unknown flags. REACHED = any errno but EPERM/EACCES/ENOSYS
// (EINVAL).
int kexec_file_load(const Args&) {
  long rc = ::syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0xdead0000UL);
  return kernel_verdict("kexec_file_load", rc, errno);
}

// Sets a persona, then checks its effect. READ_IMPLIES_EXEC: a PROT_READ mapping becomes
// executable; otherwise: the bits read back.
int personality_with(unsigned int persona, unsigned int bits, const std::string& name) {
  if (::personality(persona) < 0) return blocked_errno("personality(" + name + ")", errno);
  // The query cannot fail; its answer may have bit 31 set, so it is read as unsigned.
  const auto now = static_cast<unsigned int>(::personality(0xffffffff));
  if ((now & bits) != bits) return blocked(name + " did not stick");
  std::string effect;
  if ((bits & READ_IMPLIES_EXEC) != 0) {
    void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return probe_error("mmap: " + errno_name(errno));
    char prefix[32];
    (void)std::snprintf(prefix, sizeof prefix, "%lx-", reinterpret_cast<unsigned long>(page));
    int error = 0;
    std::istringstream maps(read_text_file("/proc/self/maps", error));
    std::string line;
    while (std::getline(maps, line)) {
      if (line.rfind(prefix, 0) == 0)
        effect = line.find(" r-x") != std::string::npos ? ", PROT_READ mapped r-x" : "";
    }
  }
  return reached(name + " set" + effect);
}

// THREATS 9: personality(READ_IMPLIES_EXEC). REACHED = the bit is set (data becomes executable).
int personality_read_implies_exec(const Args&) {
  return personality_with(READ_IMPLIES_EXEC, READ_IMPLIES_EXEC, "READ_IMPLIES_EXEC");
}

// THREATS 9: personality(MMAP_PAGE_ZERO). REACHED = the bit is set (NULL page mappable after exec).
int personality_mmap_page_zero(const Args&) {
  return personality_with(MMAP_PAGE_ZERO, MMAP_PAGE_ZERO, "MMAP_PAGE_ZERO");
}

// THREATS 9: personality(READ_IMPLIES_EXEC | 0x80000000): bit 31 belongs to no persona and
// the kernel stores it as given. REACHED = READ_IMPLIES_EXEC is set.
int personality_read_implies_exec_bit31(const Args&) {
  return personality_with(READ_IMPLIES_EXEC | 0x80000000U, READ_IMPLIES_EXEC,
                          "READ_IMPLIES_EXEC|0x80000000");
}

// THREATS 9: an i386 syscall (getpid, 20) through int 0x80. REACHED = it returned our pid.
// Inside, seccomp must kill the process (SIGSYS) before the kernel runs it.
int int80(const Args&) {
  long result = 20;
  asm volatile("int $0x80" : "+a"(result) : : "memory", "r8", "r9", "r10", "r11");
  if (result == ::getpid()) return reached("i386 getpid via int 0x80 returned our pid");
  return blocked_errno("i386 getpid via int 0x80", static_cast<int>(-result));
}

// THREATS 9: an x32 syscall (getpid | __X32_SYSCALL_BIT). REACHED = it returned our pid.
int x32(const Args&) {
  long result = ::syscall(0x40000000L | 39);
  if (result == ::getpid()) return reached("x32 getpid returned our pid");
  return blocked_errno("x32 getpid", errno);
}

int terminal_fd() {
  if (::isatty(STDIN_FILENO) != 0) return STDIN_FILENO;
  return ::open("/dev/tty", O_RDWR | O_CLOEXEC);
}

// THREATS 10: TIOCSTI into the controlling terminal. REACHED = a character was injected.
int tiocsti(const Args&) {
  int fd = terminal_fd();
  if (fd < 0) return probe_error("no controlling terminal: " + errno_name(errno));
  char c = '#';
  if (::ioctl(fd, TIOCSTI, &c) != 0) return blocked_errno("ioctl(TIOCSTI)", errno);
  return reached("injected a character into the terminal");
}

// THREATS 10: TIOCSTI with bits above 32 set in the request (the kernel ignores them).
// REACHED = a character was injected.
int tiocsti_high_bits(const Args&) {
  int fd = terminal_fd();
  if (fd < 0) return probe_error("no controlling terminal: " + errno_name(errno));
  char c = '#';
  long rc = ::syscall(SYS_ioctl, fd, 0x100000000UL | TIOCSTI, &c);
  if (rc != 0) return blocked_errno("ioctl(TIOCSTI | 1 << 32)", errno);
  return reached("injected a character with a 64-bit request number");
}

// THREATS 10: TIOCLINUX (subcode 7, get shift state) on the terminal. REACHED = any errno but
// EPERM/EACCES/ENOSYS (on a pty the kernel answers EINVAL or ENOTTY: it looked at the request).
int tioclinux(const Args&) {
  int fd = terminal_fd();
  if (fd < 0) return probe_error("no controlling terminal: " + errno_name(errno));
  char subcode[2] = {7, 0};
  long rc = ::ioctl(fd, TIOCLINUX, subcode);
  return kernel_verdict("ioctl(TIOCLINUX)", rc, errno);
}

// THREATS 11/12: read PATH. REACHED = readable and contains MARKER ("-": any content).
int read_file(const Args& args) {
  if (args.size() != 2) return probe_error("usage: read-file PATH MARKER|-");
  int error = 0;
  std::string content = read_text_file(args[0], error);
  if (error != 0) return blocked_errno("read " + args[0], error);
  if (args[1] == "-" ? !content.empty() : content.find(args[1]) != std::string::npos) {
    return reached("read " + args[0]);
  }
  return blocked(args[0] + " is readable but holds no secret (" + std::to_string(content.size()) +
                 " bytes)");
}

// THREATS 11: read /proc/PID/environ. REACHED = readable and contains MARKER ("-": non-empty).
int read_environ(const Args& args) {
  if (args.size() != 2) return probe_error("usage: read-environ PID MARKER|-");
  return read_file({"/proc/" + args[0] + "/environ", args[1]});
}

// THREATS 11/12: list DIR. REACHED = the entry MARKER is listed ("-": any entry).
int list_dir(const Args& args) {
  if (args.size() != 2) return probe_error("usage: list-dir DIR MARKER|-");
  DIR* dir = ::opendir(args[0].c_str());
  if (dir == nullptr) return blocked_errno("opendir " + args[0], errno);
  std::string names;
  bool found = false;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    names += " " + name;
    found = found || args[1] == "-" || name == args[1];
  }
  ::closedir(dir);
  if (found) return reached("listed " + args[0] + ":" + names.substr(0, 200));
  return blocked(args[0] + " does not show " + args[1] + ":" + names.substr(0, 200));
}

// THREATS 12: /proc/net/tcp and tcp6. REACHED = a listener on the host's PORT is listed.
int proc_net_tcp(const Args& args) {
  long port = 0;
  if (args.size() != 1 || !parse_long(args[0], port))
    return probe_error("usage: proc-net-tcp PORT");
  char suffix[16];
  (void)std::snprintf(suffix, sizeof suffix, ":%04lX", port);  // local_address is HEXIP:HEXPORT
  const std::string needle = suffix;
  int first_error = 0;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    int error = 0;
    std::istringstream lines(read_text_file(path, error));
    if (error != 0 && first_error == 0) first_error = error;
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const bool port_matches =
          local.size() > needle.size() &&
          local.compare(local.size() - needle.size(), needle.size(), needle) == 0;
      if (state == "0A" && port_matches) {
        return reached(std::string(path) + " lists the host listener on port " + args[0]);
      }
    }
  }
  if (first_error != 0) return blocked_errno("read /proc/net/tcp", first_error);
  return blocked("/proc/net/tcp does not list port " + args[0]);
}

// THREATS 12: /proc/net/unix. REACHED = the host's socket NAME is listed.
int proc_net_unix(const Args& args) {
  if (args.size() != 1) return probe_error("usage: proc-net-unix NAME");
  int error = 0;
  std::string table = read_text_file("/proc/net/unix", error);
  if (error != 0) return blocked_errno("read /proc/net/unix", error);
  if (table.find(args[0]) != std::string::npos) return reached("/proc/net/unix lists " + args[0]);
  return blocked("/proc/net/unix does not list " + args[0]);
}

// THREATS 12: write /proc/sys/PATH with its current value. REACHED = the write was accepted.
int write_proc_sys(const Args& args) {
  if (args.size() != 1 || args[0].rfind("/proc/sys/", 0) != 0)
    return probe_error("usage: write-proc-sys /proc/sys/...");
  int error = 0;
  std::string value = read_text_file(args[0], error);
  if (error != 0) return blocked_errno("read " + args[0], error);
  if (!write_file(args[0], value, 0)) return blocked_errno("write " + args[0], errno);
  return reached("wrote " + args[0]);
}

// THREATS 13: create or truncate PATH and write MARKER. REACHED = the write was accepted
// (the harness checks on the host whether it landed there).
int write_file_probe(const Args& args) {
  if (args.size() != 2) return probe_error("usage: write-file PATH MARKER");
  if (!write_file(args[0], args[1] + "\n")) return blocked_errno("write " + args[0], errno);
  return reached("wrote " + args[0]);
}

const char kHook[] = "#!/bin/sh\necho airlock-probe hook ran\n";

// THREATS 13: move .git away (cwd: the workspace), make a new one with a hook.
// REACHED = .git/hooks/pre-commit exists in a .git of our making.
int rename_git(const Args&) {
  if (::rename(".git", ".git-moved-by-probe") != 0) return blocked_errno("rename .git", errno);
  if (::mkdir(".git", 0755) != 0 || ::mkdir(".git/hooks", 0755) != 0)
    return blocked_errno("mkdir .git/hooks", errno);
  if (!write_file(".git/hooks/pre-commit", kHook))
    return blocked_errno("write .git/hooks/pre-commit", errno);
  return reached("replaced .git and wrote a pre-commit hook");
}

// THREATS 13: move .git/hooks away, make a new one with a hook. REACHED = the hook was written.
int rename_hooks(const Args&) {
  if (::rename(".git/hooks", ".git/hooks-moved-by-probe") != 0)
    return blocked_errno("rename .git/hooks", errno);
  if (::mkdir(".git/hooks", 0755) != 0) return blocked_errno("mkdir .git/hooks", errno);
  if (!write_file(".git/hooks/pre-commit", kHook))
    return blocked_errno("write .git/hooks/pre-commit", errno);
  return reached("replaced .git/hooks and wrote a pre-commit hook");
}

// THREATS 13: replace .git/config the way editors save (write a copy, rename it over).
// REACHED = .git/config now sets core.hooksPath.
int replace_git_config(const Args&) {
  if (!write_file(".git/config.probe-new", "[core]\n\thooksPath = /tmp/airlock-probe-hooks\n")) {
    return blocked_errno("write .git/config.probe-new", errno);
  }
  if (::rename(".git/config.probe-new", ".git/config") != 0) {
    int error = errno;
    ::unlink(".git/config.probe-new");
    return blocked_errno("rename over .git/config", error);
  }
  return reached("replaced .git/config");
}

// THREATS 13: point git's common directory (where it reads config and hooks) at a directory
// of ours holding a pre-commit hook, by writing .git/commondir; objects and refs stay the
// repository's through symlinks. REACHED = .git/commondir was written (the harness asks the
// host's git where it now looks for hooks).
int git_commondir(const Args&) {
  const std::string common = ".airlock-probe-git";
  if (::mkdir(common.c_str(), 0755) != 0 || ::mkdir((common + "/hooks").c_str(), 0755) != 0) {
    return blocked_errno("mkdir " + common, errno);
  }
  int error = 0;
  const std::string config = read_text_file(".git/config", error);
  if (error != 0) return probe_error("read .git/config: " + errno_name(error));
  if (!write_file(common + "/config", config) || !write_file(common + "/hooks/pre-commit", kHook) ||
      ::chmod((common + "/hooks/pre-commit").c_str(), 0755) != 0 ||
      ::symlink("../.git/objects", (common + "/objects").c_str()) != 0 ||
      ::symlink("../.git/refs", (common + "/refs").c_str()) != 0) {
    return blocked_errno("populate " + common, errno);
  }
  if (!write_file(".git/commondir", "../" + common + "\n"))
    return blocked_errno("write .git/commondir", errno);
  return reached("git now takes its config and hooks from " + common);
}

// THREATS 13: make LINK a symlink to TARGET, then write MARKER through LINK.
// REACHED = the write was accepted (the harness checks TARGET on the host).
int symlink_write(const Args& args) {
  if (args.size() != 3) return probe_error("usage: symlink-write LINK TARGET MARKER");
  if (::symlink(args[1].c_str(), args[0].c_str()) != 0) return blocked_errno("symlink", errno);
  if (!write_file(args[0], args[2] + "\n"))
    return blocked_errno("write through the symlink", errno);
  return reached("wrote " + args[1] + " through " + args[0]);
}

// THREATS 13: hard-link TARGET as LINK, then write MARKER into LINK.
// REACHED = the write was accepted (the harness checks TARGET on the host).
int hardlink_write(const Args& args) {
  if (args.size() != 3) return probe_error("usage: hardlink-write TARGET LINK MARKER");
  if (::link(args[0].c_str(), args[1].c_str()) != 0) return blocked_errno("link", errno);
  if (!write_file(args[1], args[2] + "\n", O_TRUNC))
    return blocked_errno("write through the hard link", errno);
  return reached("wrote " + args[0] + " through " + args[1]);
}

// THREATS 14: fork N children that sleep (argv carries the harness's marker), then kill them.
// REACHED = all N were created.
int fork_bomb(const Args& args) {
  long wanted = 0;
  if (args.size() < 1 || !parse_long(args[0], wanted) || wanted <= 0)
    return probe_error("usage: fork-bomb N [MARKER]");
  std::vector<pid_t> children;
  int error = 0;
  for (long i = 0; i < wanted; ++i) {
    pid_t child = ::fork();
    if (child == 0) {
      for (;;) ::pause();
    }
    if (child < 0) {
      error = errno;
      break;
    }
    children.push_back(child);
  }
  for (pid_t child : children) ::kill(child, SIGKILL);
  for (pid_t child : children) {
    int status = 0;
    ::waitpid(child, &status, 0);
  }
  const std::string count = std::to_string(children.size());
  if (static_cast<long>(children.size()) == wanted) return reached("forked " + count + " children");
  return blocked(errno_name(error) + " after " + count + " children");
}

// THREATS 14: allocate and touch MB MiB. REACHED = every page was touched.
int memory(const Args& args) {
  long megabytes = 0;
  if (args.size() != 1 || !parse_long(args[0], megabytes) || megabytes <= 0)
    return probe_error("usage: memory MB");
  const size_t size = static_cast<size_t>(megabytes) << 20;
  void* block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) return blocked_errno("mmap", errno);
  auto* bytes = static_cast<volatile unsigned char*>(block);
  for (size_t offset = 0; offset < size; offset += 4096) bytes[offset] = 1;
  ::munmap(block, size);
  return reached("touched " + args[0] + " MiB");
}

// THREATS 14: raise RLIMIT_NOFILE's soft limit to the hard one and open descriptors.
// REACHED = more than N are open.
int fd_exhaust(const Args& args) {
  long threshold = 0;
  if (args.size() != 1 || !parse_long(args[0], threshold) || threshold <= 0)
    return probe_error("usage: fd-exhaust N");
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  int base = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (base < 0) return probe_error("open /dev/null: " + errno_name(errno));
  long opened = 1;
  int error = 0;
  while (opened <= threshold) {
    if (::fcntl(base, F_DUPFD_CLOEXEC, 0) < 0) {
      error = errno;
      break;
    }
    ++opened;
  }
  const std::string detail = std::to_string(opened) + " descriptors (hard limit " +
                             std::to_string(static_cast<unsigned long long>(limit.rlim_max)) + ")";
  if (opened > threshold) return reached(detail);
  return blocked(errno_name(error) + " after " + detail);
}

// THREATS 7/14: our effective capabilities. REACHED = CapEff is not zero.
int capabilities(const Args&) {
  int error = 0;
  std::istringstream status(read_text_file("/proc/self/status", error));
  if (error != 0) return probe_error("read /proc/self/status: " + errno_name(error));
  std::string line, summary;
  unsigned long long effective = 0;
  while (std::getline(status, line)) {
    if (line.rfind("Cap", 0) != 0) continue;
    summary +=
        " " + line.substr(0, line.find(':')) + "=" + line.substr(line.find_last_of(" \t") + 1);
    if (line.rfind("CapEff:", 0) == 0) effective = std::strtoull(line.c_str() + 7, nullptr, 16);
  }
  if (effective != 0) return reached("capabilities:" + summary);
  return blocked("no effective capabilities:" + summary);
}

// THREATS 15: a double-forked, setsid daemon that rewrites FILE every 100 ms (for 60 s at
// most). MARKER is only there for the harness to find us in /proc/*/cmdline. REACHED = the
// daemon runs after we return; with "stay" we say so and wait to be killed instead.
int daemon_probe(const Args& args) {
  if (args.size() < 2) return probe_error("usage: daemon FILE MARKER [stay]");
  const std::string& file = args[0];
  const bool stay = args.size() > 2 && args[2] == "stay";
  pid_t child = ::fork();
  if (child < 0) return probe_error("fork: " + errno_name(errno));
  if (child == 0) {
    ::setsid();
    pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild > 0 ? 0 : 1);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    for (int beat = 0; beat < 600; ++beat) {
      write_file(file, std::to_string(::getpid()) + " " + std::to_string(beat) + "\n");
      ::usleep(100000);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  struct stat info {};
  for (int i = 0; i < 100 && ::stat(file.c_str(), &info) != 0; ++i) ::usleep(20000);
  if (::stat(file.c_str(), &info) != 0) return probe_error("the daemon never wrote " + file);
  if (!stay) return reached("a daemon outlives us, writing " + file);
  say("READY", "daemon running, waiting to be killed", kReached);
  for (;;) ::pause();
}

// THREATS 16: descriptors other than 0, 1, 2. REACHED = any is open.
int inherited_fds(const Args&) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return probe_error("opendir /proc/self/fd: " + errno_name(errno));
  std::string found;
  while (dirent* entry = ::readdir(dir)) {
    long fd = 0;
    if (!parse_long(entry->d_name, fd) || fd < 3 || fd == ::dirfd(dir)) continue;
    char target[256] = {};
    std::string path = std::string("/proc/self/fd/") + entry->d_name;
    ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    found += " " + std::string(entry->d_name) + "->" + (n > 0 ? target : "?");
  }
  ::closedir(dir);
  if (!found.empty()) return reached("inherited descriptors:" + found);
  return blocked("only 0, 1 and 2 are open");
}

struct Probe {
  const char* name;
  int (*run)(const Args&);
};

constexpr Probe kProbes[] = {
    {"tcp-connect", tcp_connect},
    {"udp-echo", udp_echo},
    {"dns-query", dns_query},
    {"icmp-ping", icmp_ping},
    {"af-packet", af_packet},
    {"sock-raw", sock_raw},
    {"netlink-sock-diag", netlink_sock_diag},
    {"netlink-uevent", netlink_uevent},
    {"netlink-route", netlink_route},
    {"af-vsock", af_vsock},
    {"af-alg", af_alg},
    {"af-bluetooth", af_bluetooth},
    {"af-xdp", af_xdp},
    {"unix-connect", unix_connect},
    {"io-uring-setup", io_uring_setup},
    {"io-uring-enter", io_uring_enter},
    {"io-uring-register", io_uring_register},
    {"unshare-user", unshare_user},
    {"clone-newuser", clone_newuser},
    {"clone3-newuser", clone3_newuser},
    {"setns", setns_probe},
    {"mount-tmpfs", mount_tmpfs},
    {"fsopen", fsopen_probe},
    {"pivot-root", pivot_root_probe},
    {"chroot", chroot_probe},
    {"open-by-handle", open_by_handle},
    {"ptrace-child", ptrace_child},
    {"process-vm-readv", process_vm_readv_probe},
    {"proc-mem", proc_mem},
    {"kill-pid", kill_pid},
    {"bpf-map", bpf_map},
    {"perf-event", perf_event},
    {"add-key", add_key},
    {"keyctl", keyctl_probe},
    {"request-key", request_key},
    {"userfaultfd", userfaultfd},
    {"finit-module", finit_module},
    {"init-module", init_module},
    {"delete-module", delete_module},
    {"kexec-load", kexec_load},
    {"kexec-file-load", kexec_file_load},
    {"personality-read-implies-exec", personality_read_implies_exec},
    {"personality-mmap-page-zero", personality_mmap_page_zero},
    {"personality-read-implies-exec-bit31", personality_read_implies_exec_bit31},
    {"int80", int80},
    {"x32", x32},
    {"tiocsti", tiocsti},
    {"tiocsti-high-bits", tiocsti_high_bits},
    {"tioclinux", tioclinux},
    {"read-file", read_file},
    {"read-environ", read_environ},
    {"list-dir", list_dir},
    {"proc-net-tcp", proc_net_tcp},
    {"proc-net-unix", proc_net_unix},
    {"write-proc-sys", write_proc_sys},
    {"write-file", write_file_probe},
    {"rename-git", rename_git},
    {"rename-hooks", rename_hooks},
    {"replace-git-config", replace_git_config},
    {"git-commondir", git_commondir},
    {"symlink-write", symlink_write},
    {"hardlink-write", hardlink_write},
    {"fork-bomb", fork_bomb},
    {"memory", memory},
    {"fd-exhaust", fd_exhaust},
    {"capabilities", capabilities},
    {"daemon", daemon_probe},
    {"inherited-fds", inherited_fds},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::string names;
    for (const Probe& probe : kProbes) names += std::string(" ") + probe.name;
    return probe_error("usage: airlock-probe NAME [ARGS]; probes:" + names);
  }
  const std::string name = argv[1];
  const Args args(argv + 2, argv + argc);
  for (const Probe& probe : kProbes) {
    if (name == probe.name) return probe.run(args);
  }
  return probe_error("unknown probe " + name);
}
