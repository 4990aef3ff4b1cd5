// One sandbox's egress proxy: the listeners that live in its network namespace (transparent,
// HTTP, SOCKS5, DNS), every connection's session, on one event loop in its own thread. The
// supervisor starts it once the capture is installed and stops it when the sandbox has ended.
#pragma once

#include "egress/egress_counters.h"

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>

#include "audit/audit_log.h"
#include "common/result.h"
#include "egress/destination_policy.h"
#include "egress/sandbox_network.h"
#include "policy/policy.h"

namespace airlock::credentials {
class CredentialVault;
}
namespace airlock::intercept {
struct Interception;
}

namespace airlock::egress {

class EgressProxy {
 public:
  // `credentials` and `interception` (both null without credentials) are used by the proxy's
  // thread only, from start() on.
  static Result<std::unique_ptr<EgressProxy>> create(
      SandboxListeners listeners, const policy::NetworkPolicy& network,
      const audit::AuditLog& audit, pid_t sandbox_pid, credentials::CredentialVault* credentials,
      intercept::Interception* interception, ObserveMode observe = ObserveMode::off,
      std::map<std::string, IpAddress> link_names = {});
  ~EgressProxy();
  EgressProxy(const EgressProxy&) = delete;
  EgressProxy& operator=(const EgressProxy&) = delete;

  void start();
  const EgressCounters& counters() const;
  // Stops the loop, closes every connection (each with its close event) and joins the thread.
  void stop();

 private:
  struct State;
  explicit EgressProxy(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace airlock::egress
