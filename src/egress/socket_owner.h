// Which process inside the sandbox made a connection the proxy accepted: sock_diag(7) names the
// client socket's inode, /proc names the process holding it. Audit events of denied connections
// carry it; a socket already closed (or a process already gone) is simply not found.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::egress {

struct SocketOwner {
  pid_t host_pid = 0;     // pid in the supervisor's pid namespace
  pid_t sandbox_pid = 0;  // pid inside the sandbox's pid namespace (last NSpid field of status)
  std::string exe;        // readlink /proc/PID/exe ("" if unreadable)
  std::vector<std::string> argv;  // /proc/PID/cmdline split on NUL, at most 64 entries of 512 bytes
};

// The process holding the TCP socket whose local address is `client` (the peer address accept()
// returned), searched among the processes in the pid namespace of `sandbox_init_pid`; the lowest
// pid wins. `sock_diag_fd` must have been created in the sandbox's network namespace. nullopt when
// nothing is found, the kernel does not answer within 100 ms, or a scan bound (4096 processes,
// 65536 fds) is reached. One caller at a time per `sock_diag_fd`: replies are read from it.
std::optional<SocketOwner> find_socket_owner(int sock_diag_fd, const sockaddr_storage& client,
                                             pid_t sandbox_init_pid);

// A pid namespace, as stat(2) of /proc/PID/ns/pid names it.
struct PidNamespaceId {
  dev_t device = 0;
  ino_t inode = 0;
  friend bool operator==(const PidNamespaceId&, const PidNamespaceId&) = default;
};
// Read it while the sandbox's init is still dumpable: once it is not, an unprivileged
// supervisor may no longer look at /proc/INIT/ns (its processes stay readable).
std::optional<PidNamespaceId> pid_namespace_of(pid_t pid);
std::optional<SocketOwner> find_socket_owner(int sock_diag_fd, const sockaddr_storage& client,
                                             const PidNamespaceId& sandbox);

// The ancestors of `host_pid` inside the sandbox, nearest first, up to the sandbox's init
// (pid 1 inside, airlock itself, not included), at most `max_depth` of them.
std::vector<SocketOwner> parent_chain(pid_t host_pid, const PidNamespaceId& sandbox,
                                      size_t max_depth = 16);

// A NETLINK_SOCK_DIAG socket (SOCK_CLOEXEC) in the current network namespace.
Result<UniqueFd> open_sock_diag();

}  // namespace airlock::egress
