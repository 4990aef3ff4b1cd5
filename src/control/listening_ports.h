// The TCP ports a sandbox listens on, from /proc/PID/net/tcp and tcp6 of its init (which show
// the sockets of the process's network namespace). `airlock up` waits on this before starting
// the sandboxes that link to one: nothing connects to the sandbox to find out.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace airlock::control {

struct ListeningPort {
  std::string address;  // "127.0.0.1", "0.0.0.0", "::1", "::"
  uint16_t port = 0;
  bool operator==(const ListeningPort&) const = default;
};

// The LISTEN entries of one /proc/net/tcp (`ipv6` false) or tcp6 (true) table.
std::vector<ListeningPort> parse_listening(const std::string& table, bool ipv6);

// Both tables of `pid`'s network namespace, sorted by port then address.
Result<std::vector<ListeningPort>> listening_ports(pid_t pid);

}  // namespace airlock::control
