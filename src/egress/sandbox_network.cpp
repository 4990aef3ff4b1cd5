#include "egress/sandbox_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/errno_text.h"
#include "common/fd_message.h"
#include "egress/dropped_datagrams.h"
#include "egress/nftables_ruleset.h"
#include "egress/sandbox_ports.h"

namespace airlock::egress {
namespace {

constexpr size_t kListenerCount = 9;  // the fields of SandboxListeners, in declaration order
constexpr int kBacklog = 4096;

// One SCM_RIGHTS message carrying every listener, with room for a one-line error instead.
using ListenerMessage = FdMessage<kListenerCount>;

// The helper's failure, as one line for the supervisor's message.
[[noreturn]] void helper_fail(int channel, const std::string& what) {
  std::string line = what + ": " + errno_text(errno);
  ssize_t ignored = ::send(channel, line.data(), line.size(), MSG_NOSIGNAL);
  (void)ignored;
  ::_exit(1);
}

bool enter_namespace(pid_t pid, const char* name, int type) {
  std::string path = fmt::format("/proc/{}/ns/{}", pid, name);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return fd.valid() && ::setns(fd.get(), type) == 0;
}

bool bring_up_loopback() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &request) != 0) return false;
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
  return ::ioctl(fd.get(), SIOCSIFFLAGS, &request) == 0;
}

// "default dev lo src 127.0.0.1" (and ::1): without a route, connect() to an outside address
// fails with ENETUNREACH before netfilter sees it; with this one nftables redirects it. The
// preferred source keeps the client's address on loopback, so the redirected SYN is local.
bool add_default_route(int family) {
  UniqueFd netlink(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!netlink.valid()) return false;
  struct {
    nlmsghdr header;
    rtmsg route;
    char attributes[64];
  } request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  request.header.nlmsg_type = RTM_NEWROUTE;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
  request.header.nlmsg_seq = 1;
  request.route.rtm_family = static_cast<unsigned char>(family);
  request.route.rtm_table = RT_TABLE_MAIN;
  request.route.rtm_protocol = RTPROT_BOOT;
  request.route.rtm_scope = RT_SCOPE_LINK;
  request.route.rtm_type = RTN_UNICAST;
  auto add_attribute = [&request](unsigned short type, const void* data, size_t length) {
    auto* attribute = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&request.header) +
                                                NLMSG_ALIGN(request.header.nlmsg_len));
    attribute->rta_type = type;
    attribute->rta_len = static_cast<unsigned short>(RTA_LENGTH(length));
    std::memcpy(RTA_DATA(attribute), data, length);
    request.header.nlmsg_len =
        NLMSG_ALIGN(request.header.nlmsg_len) + RTA_ALIGN(attribute->rta_len);
  };
  const int loopback = static_cast<int>(::if_nametoindex("lo"));
  add_attribute(RTA_OIF, &loopback, sizeof loopback);
  if (family == AF_INET) {
    in_addr source{htonl(INADDR_LOOPBACK)};
    add_attribute(RTA_PREFSRC, &source, sizeof source);
  } else {
    in6_addr source = in6addr_loopback;
    add_attribute(RTA_PREFSRC, &source, sizeof source);
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(netlink.get(), &request, request.header.nlmsg_len, 0,
               reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    return false;
  }
  std::array<char, 4096> reply{};
  ssize_t n = ::recv(netlink.get(), reply.data(), reply.size(), 0);
  if (n < static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr)))) return false;
  const auto* header = reinterpret_cast<const nlmsghdr*>(reply.data());
  if (header->nlmsg_type != NLMSG_ERROR) return false;
  const auto* error = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(header));
  errno = -error->error;
  return error->error == 0;
}

int listener(int family, int type, uint16_t port) {
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return -1;
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage address{};
  socklen_t length = 0;
  if (family == AF_INET) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::memcpy(&address, &v4, sizeof v4);
    length = sizeof v4;
  } else {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    v6.sin6_addr = in6addr_loopback;
    std::memcpy(&address, &v6, sizeof v6);
    length = sizeof v6;
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) return -1;
  if (type == SOCK_STREAM && ::listen(fd.get(), kBacklog) != 0) return -1;
  return fd.release();
}

[[noreturn]] void run_helper(int channel, pid_t sandbox_pid, bool join_user_namespace,
                             const std::string& ruleset) {
  if (join_user_namespace && !enter_namespace(sandbox_pid, "user", CLONE_NEWUSER)) {
    helper_fail(channel, "cannot enter the sandbox's user namespace");
  }
  if (!enter_namespace(sandbox_pid, "net", CLONE_NEWNET)) {
    helper_fail(channel, "cannot enter the sandbox's network namespace");
  }
  if (!bring_up_loopback()) helper_fail(channel, "cannot bring up lo in the sandbox");
  if (!add_default_route(AF_INET)) helper_fail(channel, "cannot add the IPv4 route onto lo");
  if (!add_default_route(AF_INET6)) helper_fail(channel, "cannot add the IPv6 route onto lo");
  if (Status loaded = load_nftables_ruleset(ruleset); !loaded) {
    errno = EINVAL;
    helper_fail(channel, "cannot load the nftables capture (" + loaded.error().message + ")");
  }
  const struct {
    int family;
    int type;
    uint16_t port;
    const char* what;
  } kSockets[] = {
      {AF_INET, SOCK_STREAM, kTransparentPort, "transparent listener 127.0.0.1"},
      {AF_INET6, SOCK_STREAM, kTransparentPort, "transparent listener [::1]"},
      {AF_INET, SOCK_DGRAM, kDnsPort, "DNS stub 127.0.0.1:53/udp"},
      {AF_INET6, SOCK_DGRAM, kDnsPort, "DNS stub [::1]:53/udp"},
      {AF_INET, SOCK_STREAM, kDnsPort, "DNS stub 127.0.0.1:53/tcp"},
      {AF_INET6, SOCK_STREAM, kDnsPort, "DNS stub [::1]:53/tcp"},
      {AF_INET, SOCK_STREAM, kHttpProxyPort, "HTTP proxy listener"},
      {AF_INET, SOCK_STREAM, kSocksPort, "SOCKS5 listener"},
  };
  std::array<int, kListenerCount> fds{};
  for (size_t i = 0; i < std::size(kSockets); ++i) {
    fds[i] = listener(kSockets[i].family, kSockets[i].type, kSockets[i].port);
    if (fds[i] < 0) helper_fail(channel, fmt::format("cannot open the {}", kSockets[i].what));
  }
  fds[kListenerCount - 1] = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fds[kListenerCount - 1] < 0) helper_fail(channel, "cannot open a sock_diag socket");

  char ok = 'k';
  ListenerMessage carrier(&ok, 1);
  carrier.attach(fds);
  if (::sendmsg(channel, &carrier.message, MSG_NOSIGNAL) != 1) {
    helper_fail(channel, "cannot pass the listeners to the supervisor");
  }
  ::_exit(0);
}

}  // namespace

std::string capture_ruleset(const std::vector<uint16_t>& host_loopback_ports, bool count_dropped) {
  std::string ports;
  for (uint16_t port : host_loopback_ports)
    ports += (ports.empty() ? "" : ", ") + std::to_string(port);
  std::string carried;
  if (!ports.empty()) {
    // localhost:PORT rules: these loopback ports lead to the HOST's loopback, via the proxy.
    carried = fmt::format(
        "    ip daddr 127.0.0.1 tcp dport {{ {0} }} redirect to :{1}\n"
        "    ip6 daddr ::1 tcp dport {{ {0} }} redirect to :{1}\n",
        ports, kTransparentPort);
  }
  return fmt::format(
      "table inet airlock {{\n"
      "{3}"
      "  chain capture {{\n"
      "    type nat hook output priority -100; policy accept;\n"
      "    meta l4proto {{ tcp, udp }} th dport 53 redirect to :{0}\n"
      "{2}"
      "    ip daddr 127.0.0.0/8 accept\n"
      "    ip6 daddr ::1 accept\n"
      "    meta l4proto tcp redirect to :{1}\n"
      "  }}\n"
      "  chain fence {{\n"
      "    type filter hook output priority 0; policy drop;\n"
      "    ip daddr 127.0.0.0/8 accept\n"
      "    ip6 daddr ::1 accept\n"
      "{4}"
      "  }}\n"
      "}}\n",
      kDnsPort, kTransparentPort, carried, count_dropped ? dropped_counter_sets() : "",
      count_dropped ? dropped_counter_rules() : "");
}

Result<SandboxListeners> install_sandbox_capture(pid_t sandbox_pid, bool join_user_namespace,
                                                 const std::vector<uint16_t>& host_loopback_ports,
                                                 bool count_dropped) {
  const std::string ruleset = capture_ruleset(host_loopback_ports, count_dropped);
  if (Status opened = open_nftables_library(); !opened) {
    return Error{"cannot set up the sandbox's egress capture: " + opened.error().message};
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return Error{"cannot create the egress set-up channel: " + errno_text(errno)};
  }
  UniqueFd ours(pair[0]), theirs(pair[1]);
  // The supervisor is single-threaded here (the proxy thread starts afterwards), so the helper
  // may allocate; setns(CLONE_NEWUSER) needs a single-threaded caller anyway.
  pid_t helper = ::fork();
  if (helper < 0) return Error{"cannot start the egress set-up helper: " + errno_text(errno)};
  if (helper == 0) {
    ours.reset();
    run_helper(theirs.get(), sandbox_pid, join_user_namespace, ruleset);
  }
  theirs.reset();

  char reply[512] = {};
  ListenerMessage carrier(reply, sizeof reply - 1);
  ssize_t n;
  do {
    n = ::recvmsg(ours.get(), &carrier.message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  int status = 0;
  while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {
  }
  std::array<int, kListenerCount> fds{};
  if (n <= 0 || !carrier.take(fds)) fds.fill(-1);
  if (fds[0] < 0) {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
    std::string why = n > 0 ? std::string(reply, static_cast<size_t>(n))
                            : fmt::format("the helper exited with status {}", status);
    return Error{"cannot set up the sandbox's egress capture: " + why};
  }
  SandboxListeners listeners;
  UniqueFd* slots[kListenerCount] = {
      &listeners.transparent_v4, &listeners.transparent_v6, &listeners.dns_udp_v4,
      &listeners.dns_udp_v6,     &listeners.dns_tcp_v4,     &listeners.dns_tcp_v6,
      &listeners.http_proxy,     &listeners.socks5,         &listeners.sock_diag};
  for (size_t i = 0; i < kListenerCount; ++i) slots[i]->reset(fds[i]);
  return listeners;
}

}  // namespace airlock::egress
