// What every session of one sandbox's proxy shares: the loop, the resolver, the decisions, the
// names the DNS stub handed out, the audit trail, and how to find the process behind a socket.
#pragma once

#include "egress/egress_counters.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "egress/destination_policy.h"
#include "egress/dns_map.h"
#include "egress/dns_resolver.h"
#include "egress/event_loop.h"
#include "egress/pipe_pool.h"
#include "egress/socket_owner.h"
#include "egress/synthetic_addresses.h"

namespace airlock::credentials {
class CredentialVault;
}
namespace airlock::intercept {
struct Interception;
}

namespace airlock::egress {

struct ProxyContext {
  EventLoop& loop;
  PipePool& pipes;
  DnsResolver& resolver;
  const DestinationPolicy& policy;
  DnsMap& dns_map;
  const audit::AuditLog& audit;
  int sock_diag_fd = -1;
  std::optional<PidNamespaceId> sandbox_pid_namespace;  // whose processes may own a socket
  // True while the session with this id exists (asynchronous callbacks check before acting).
  std::function<bool(uint64_t)> session_alive;
  // Destroys the session after the current batch of events.
  std::function<void(uint64_t)> release_session;
  // The run's credentials and TLS interception; both null when the policy has no credentials.
  credentials::CredentialVault* credentials = nullptr;
  intercept::Interception* interception = nullptr;
  // observe's deny mode only: the addresses the DNS stub makes up for names no rule covers.
  SyntheticAddresses* synthetic = nullptr;
  EgressCounters* counters = nullptr;  // totals for `airlock ps`
  // Links of a stack (`airlock up`): the linked sandboxes' names and the loopback address each
  // resolves to here (publish/publish_server.h listens there). Null or empty: none.
  const std::map<std::string, IpAddress>* link_names = nullptr;
};

// "127.0.0.1:5432", "[::1]:53".
std::string endpoint_text(const sockaddr_storage& address);
// {"pid", "host_pid", "exe", "argv"}: how audit events name a process inside the sandbox.
nlohmann::json owner_json(const SocketOwner& owner);
// owner_json() of the sandbox process holding the client socket, or
// null when it cannot be found (it may already have closed the socket). Under observe also
// "parents": [{"pid", "exe", "argv"}, ...] up to the sandbox's init (excluded), nearest first.
nlohmann::json client_process(const ProxyContext& context, const sockaddr_storage& client);

}  // namespace airlock::egress
