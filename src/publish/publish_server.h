// Serves a sandbox's crossings other than egress: its publish entries and the links of a stack
// (`airlock up`), both ends. Nothing is interpreted: bytes cross both ways as they are, with the
// egress proxy's splice relay. One event loop on a thread of its own.
//
// - publish: a host socket (host_socket.h); each connection checked by SO_PEERCRED (the owner,
//   root and the entry's uids; not from another user namespace), audited (`publish.connect`,
//   `publish.close`) and relayed to the agent: 127.0.0.1:PORT in the sandbox's network namespace
//   (a socket made there by inner_socket_maker.h), or the socket the agent made in its private
//   directory.
// - link_in (the linked-to sandbox, e.g. vectordb): the same, on a host socket in the control
//   directory (0600: only the owner's other supervisors and root), relayed to 127.0.0.1:PORT
//   inside; audited as `link.accept` / `link.close` with both sandboxes' names.
// - link_out (the linking sandbox, e.g. agent): a listener inside the sandbox's namespace on the
//   link's own loopback address (127.100.0.N:PORT, what the link's name resolves to there), made
//   before the agent starts; each connection relayed to the linked-to sandbox's link_in socket;
//   audited as `link.connect` / `link.close`. Nothing listens on any other port of that address.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "policy/policy.h"
#include "publish/host_socket.h"
#include "publish/inner_socket_maker.h"
#include "sandbox/launch_plan.h"

namespace airlock::audit {
class AuditLog;
}

namespace airlock::publish {

enum class CrossingKind { publish, link_in, link_out };

// One entry: where its connections come from and go to.
struct PublishTarget {
  CrossingKind kind = CrossingKind::publish;
  // publish, link_in: the host socket (unix_path, mode, uids) and the port inside (0: the agent's
  // own socket). link_out: the port listened on inside, and in unix_path the linked-to
  // sandbox's link_in socket.
  policy::PublishRule rule;
  std::string inner_socket;  // publish, port 0: the agent's socket, by its host path
  // Links: both ends by their sandbox (control) names, the name the link has inside the linking
  // sandbox, and (link_out) the loopback address that name resolves to there.
  std::string link_from;
  std::string link_to;
  std::string link_name;
  std::string link_address;
};

// The host socket of a link into `to` from `from` on `port`, in the owner's control directory.
std::string link_socket_path(const std::string& control_directory, const std::string& to,
                             const std::string& from, uint16_t port);
// The names the link_out entries resolve to inside the linking sandbox, each linked sandbox
// once, in link order (its /etc/hosts, NO_PROXY and the DNS stub all take them from here).
std::vector<sandbox::LinkHost> link_hosts(const std::vector<PublishTarget>& links);

class PublishServer {
 public:
  // Binds every host socket and link listener (all or none) and, when an entry has a port,
  // starts the socket maker in the namespaces of `sandbox_pid`. Call before the supervisor
  // starts other threads, and before the agent runs (link listeners must be ours first).
  static Result<std::unique_ptr<PublishServer>> create(std::vector<PublishTarget> targets,
                                                       pid_t sandbox_pid, bool join_user_namespace,
                                                       const audit::AuditLog& audit);
  ~PublishServer();
  PublishServer(const PublishServer&) = delete;
  PublishServer& operator=(const PublishServer&) = delete;

  void start();  // serves on its own thread
  // Stops serving: open connections are closed (each with its publish.close), the thread
  // joined, the host sockets removed.
  void stop();

 private:
  struct State;
  explicit PublishServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace airlock::publish
