#include "publish/inner_socket_maker.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/errno_text.h"
#include "common/fd_message.h"

namespace airlock::publish {
namespace {

constexpr int kChannelInHelper = 3;
constexpr char kTcpRequest = 's';
constexpr char kSockDiagRequest = 'd';
constexpr char kMade = 'k';

// The helper is forked from a process that may have threads: from here to _exit it makes
// system calls only, on buffers prepared before the fork.
[[noreturn]] void run_helper(int channel, pid_t parent, const char* user_path,
                             const char* net_path) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);  // the supervisor is already gone
  // Only the channel stays open: the helper holds none of the supervisor's other descriptors,
  // not even its stdio (`$(airlock session start)` waits for every holder of its pipe).
  if (::dup2(channel, kChannelInHelper) != kChannelInHelper) ::_exit(1);
  ::syscall(SYS_close_range, kChannelInHelper + 1, ~0U, 0);
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) ::_exit(1);
  for (int stdio = 0; stdio < 3; ++stdio) ::dup2(null, stdio);
  if (null > 2) ::close(null);
  ::prctl(PR_SET_DUMPABLE, 0);
  for (const char* path : {user_path, net_path}) {
    if (path[0] == '\0') continue;
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    const int type = path == net_path ? CLONE_NEWNET : CLONE_NEWUSER;
    if (fd < 0 || ::setns(fd, type) != 0) {
      const char* what = path == net_path ? "cannot enter the sandbox's network namespace"
                                          : "cannot enter the sandbox's user namespace";
      ssize_t ignored = ::send(kChannelInHelper, what, std::strlen(what), MSG_NOSIGNAL);
      (void)ignored;
      ::_exit(1);
    }
    ::close(fd);
  }
  for (;;) {
    char request = 0;
    ssize_t n = ::recv(kChannelInHelper, &request, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1 || (request != kTcpRequest && request != kSockDiagRequest))
      ::_exit(0);  // the supervisor closed the channel
    const int made = request == kTcpRequest
                         ? ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
                         : ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (made < 0) {
      const char what[] = "socket() failed in the sandbox's network namespace";
      ssize_t ignored = ::send(kChannelInHelper, what, sizeof what - 1, MSG_NOSIGNAL);
      (void)ignored;
      continue;
    }
    char ok = kMade;
    FdMessage<1> carrier(&ok, 1);
    carrier.attach({made});
    ssize_t sent = ::sendmsg(kChannelInHelper, &carrier.message, MSG_NOSIGNAL);
    ::close(made);
    if (sent != 1) ::_exit(0);
  }
}

}  // namespace

Result<InnerSocketMaker> InnerSocketMaker::start(pid_t sandbox_pid, bool join_user_namespace) {
  // Prepared before the fork: the helper allocates nothing.
  const std::string user_path =
      join_user_namespace ? "/proc/" + std::to_string(sandbox_pid) + "/ns/user" : std::string();
  const std::string net_path = "/proc/" + std::to_string(sandbox_pid) + "/ns/net";
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return Error{"cannot create the publish helper's channel: " + errno_text(errno)};
  }
  UniqueFd ours(pair[0]), theirs(pair[1]);
  const pid_t parent = ::getpid();
  const pid_t helper = ::fork();
  if (helper < 0) return Error{"cannot start the publish helper: " + errno_text(errno)};
  if (helper == 0) run_helper(theirs.get(), parent, user_path.c_str(), net_path.c_str());
  theirs.reset();
  InnerSocketMaker maker(std::move(ours), helper);
  // One socket now: the namespaces were joined, or the helper says why not.
  if (Result<UniqueFd> first = maker.tcp_socket(); !first) return first.error();
  return maker;
}

InnerSocketMaker::InnerSocketMaker(InnerSocketMaker&& other) noexcept
    : channel_(std::move(other.channel_)), helper_(other.helper_) {
  other.helper_ = -1;
}

InnerSocketMaker::~InnerSocketMaker() {
  if (helper_ <= 0) return;
  channel_.reset();  // the helper reads EOF and exits
  ::kill(helper_, SIGKILL);
  while (::waitpid(helper_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

Result<UniqueFd> InnerSocketMaker::tcp_socket() {
  return make(kTcpRequest);
}

Result<UniqueFd> InnerSocketMaker::sock_diag_socket() {
  return make(kSockDiagRequest);
}

Result<UniqueFd> InnerSocketMaker::make(char request) {
  if (::send(channel_.get(), &request, 1, MSG_NOSIGNAL) != 1) {
    return Error{"the publish helper is gone: " + errno_text(errno)};
  }
  char reply[256] = {};
  FdMessage<1> carrier(reply, sizeof reply - 1);
  ssize_t n;
  do {
    n = ::recvmsg(channel_.get(), &carrier.message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  std::array<int, 1> fds{-1};
  if (n == 1 && reply[0] == kMade && carrier.take(fds)) return UniqueFd(fds[0]);
  if (n > 0) return Error{std::string(reply, static_cast<size_t>(n))};
  return Error{"the publish helper exited"};
}

}  // namespace airlock::publish
