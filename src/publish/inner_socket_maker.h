// TCP sockets in the sandbox's network namespace, for the host side of a published port.
//
// A socket belongs to the network namespace it was created in, wherever it is used afterwards:
// one created there and connected from here reaches the sandbox's 127.0.0.1. The supervisor
// cannot enter the namespace itself (it has threads, and unprivileged it must first join the
// sandbox's user namespace, which a threaded process cannot), so a helper process joins it once
// and, on each request, creates an unconnected TCP socket there and passes it back over
// SCM_RIGHTS. The helper connects nothing and reads nothing from the sandbox; it dies with the
// supervisor (PR_SET_PDEATHSIG) or when its channel closes.
#pragma once

#include <sys/types.h>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::publish {

class InnerSocketMaker {
 public:
  // Forks the helper; it joins the user namespace of `sandbox_pid` first when
  // `join_user_namespace` (an unprivileged supervisor), then its network namespace.
  static Result<InnerSocketMaker> start(pid_t sandbox_pid, bool join_user_namespace);
  InnerSocketMaker(InnerSocketMaker&& other) noexcept;
  InnerSocketMaker& operator=(InnerSocketMaker&&) = delete;
  InnerSocketMaker(const InnerSocketMaker&) = delete;
  ~InnerSocketMaker();

  // An AF_INET stream socket of the sandbox's namespace, non-blocking and close-on-exec.
  // Not thread-safe: one caller at a time (the publish server's thread).
  Result<UniqueFd> tcp_socket();
  // A NETLINK_SOCK_DIAG socket of that namespace, to find which process holds a connection
  // (egress/socket_owner.h).
  Result<UniqueFd> sock_diag_socket();

 private:
  Result<UniqueFd> make(char request);
  InnerSocketMaker(UniqueFd channel, pid_t helper)
      : channel_(std::move(channel)), helper_(helper) {}
  UniqueFd channel_;
  pid_t helper_ = -1;
};

}  // namespace airlock::publish
