// observe: UDP other than DNS (which the stub answers) and ICMP never leave a sandbox: the
// capture's fence drops them, silently for the program. Under observe the fence also counts them
// per destination, in nftables sets of the sandbox's own namespace; the supervisor keeps that
// namespace open and reads the counts once the sandbox has ended, for `egress.dropped` events.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::egress {

struct DroppedDatagrams {
  std::string protocol;  // "udp", "icmp" or "icmpv6"
  std::string address;
  uint16_t port = 0;  // udp only
  uint64_t packets = 0;
};

// The set declarations (inside `table inet airlock`) and the fence rules that fill them.
std::string dropped_counter_sets();
std::string dropped_counter_rules();

// The counts in `nft -j list table inet airlock` output (exposed for tests).
Result<std::vector<DroppedDatagrams>> parse_dropped_counts(const std::string& json);

class DroppedDatagramCounter {
 public:
  // Opens the sandbox's network namespace (and, for a supervisor that is not root, its user
  // namespace, which it must join first): held open, the counts outlive the sandbox's processes.
  static Result<DroppedDatagramCounter> hold(pid_t sandbox_pid, bool join_user_namespace);
  // A short-lived helper enters the namespace and lists the sets. Call it with no other thread
  // running (the helper allocates after fork, and joining a user namespace needs one thread).
  Result<std::vector<DroppedDatagrams>> read() const;

 private:
  DroppedDatagramCounter(UniqueFd user_namespace, UniqueFd network_namespace)
      : user_namespace_(std::move(user_namespace)),
        network_namespace_(std::move(network_namespace)) {}
  UniqueFd user_namespace_;  // invalid when the supervisor is root
  UniqueFd network_namespace_;
};

}  // namespace airlock::egress
