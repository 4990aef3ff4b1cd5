// The egress side of a sandbox's network namespace: default routes onto `lo`, the nftables
// capture that sends every outbound TCP connection to the transparent listener and all port-53
// traffic to the DNS stub (everything else leaving `lo` is dropped), and the listener sockets
// themselves. A short-lived helper process enters the namespace, sets this up and hands the
// sockets back over SCM_RIGHTS, so the supervisor accepts in the host namespace: one hop.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::egress {

struct SandboxListeners {
  UniqueFd transparent_v4;  // TCP 127.0.0.1:kTransparentPort
  UniqueFd transparent_v6;  // TCP [::1]:kTransparentPort
  UniqueFd dns_udp_v4;      // 127.0.0.1:53
  UniqueFd dns_udp_v6;      // [::1]:53
  UniqueFd dns_tcp_v4;
  UniqueFd dns_tcp_v6;
  UniqueFd http_proxy;  // TCP 127.0.0.1:kHttpProxyPort: CONNECT and absolute-form HTTP
  UniqueFd socks5;      // TCP 127.0.0.1:kSocksPort
  UniqueFd sock_diag;   // NETLINK_SOCK_DIAG in the sandbox namespace, to name a socket's owner
};

// The nftables ruleset for the sandbox namespace (exposed for tests and `airlock check`).
// `count_dropped` (observe): what the fence drops is also counted per destination
// (egress/dropped_datagrams.h).
std::string capture_ruleset(const std::vector<uint16_t>& host_loopback_ports,
                            bool count_dropped = false);

// Enters the network namespace of `sandbox_pid` (first its user namespace when
// `join_user_namespace`, i.e. when the supervisor is not root) and installs the capture.
Result<SandboxListeners> install_sandbox_capture(pid_t sandbox_pid, bool join_user_namespace,
                                                 const std::vector<uint16_t>& host_loopback_ports,
                                                 bool count_dropped = false);

}  // namespace airlock::egress
