// Serves a sandbox's publish entries: the host sockets (host_socket.h), each connection checked
// by SO_PEERCRED (the owner, root and the entry's uids; not from another user namespace),
// audited (`publish.connect`, `publish.close`), and relayed with the egress proxy's splice relay
// to the agent: 127.0.0.1:PORT in the sandbox's network namespace (a socket made there by
// inner_socket_maker.h), or the socket the agent made in its private directory. Nothing is
// interpreted: bytes cross both ways as they are. One event loop on a thread of its own.
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

namespace airlock::audit {
class AuditLog;
}

namespace airlock::publish {

// Where one entry's connections go inside.
struct PublishTarget {
  policy::PublishRule rule;
  std::string inner_socket;  // port 0: the agent's socket, by its host path (private directory)
};

class PublishServer {
 public:
  // Binds every host socket (all or none) and, when an entry has a port, starts the socket
  // maker in the namespaces of `sandbox_pid`. Call before the supervisor starts other threads.
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
