// The connection attempts of a recording (egress.decision events with a port; DNS questions are
// not attempts) and what a policy rule could do about each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace airlock::suggest {

struct ConnectionAttempt {
  std::string host;  // a normalised name, an IP literal without brackets, or "localhost"
  uint16_t port = 0;
  std::string via;  // transparent, http_connect, http_forward, socks5
  bool allowed = false;
  std::string reason;
  std::string program;  // program_label() of the client
};

std::vector<ConnectionAttempt> connection_attempts(const std::vector<nlohmann::json>& events);

// What the attempt says the program needs. A denial for a missing rule, and an allowed attempt,
// name a destination; a denial no rule can fix (SNI/Host disagreement, a malformed or
// smuggling-shaped request, the connection limit) names none: an attack or a bug, not a need.
struct AttemptNeed {
  bool destination = false;  // host:port needs to be allowed
  // The internal address host resolved to that was refused without an IP rule: it needs one.
  std::optional<std::string> internal_address;
};
AttemptNeed need_of(const ConnectionAttempt& attempt);

}  // namespace airlock::suggest
