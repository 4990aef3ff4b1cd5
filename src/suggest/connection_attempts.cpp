#include "suggest/connection_attempts.h"

#include <array>
#include <string_view>

#include "suggest/program_label.h"

namespace airlock::suggest {
namespace {

// Reasons the destination policy gives when no rule (or a deny rule) decided: a rule is the
// fix, or the base keeps it denied (checked later against the base, not here). The texts are
// egress/host_matcher.cpp's, destination_policy.cpp's and tcp_session.cpp's.
constexpr std::array<std::string_view, 4> kMissingRulePrefixes = {
    "no rule for this host and port",
    "no rule for this address and port",
    "an IP address is only reachable through an IP or CIDR rule",
    "denied by rule",
};
// The policy allowed the name but the network failed it: the need is real.
constexpr std::array<std::string_view, 2> kAllowedButUnreachable = {" does not exist (NXDOMAIN)",
                                                                    "cannot resolve "};
// "10.1.2.3 address (private) without an IP rule for it": the name resolved internal.
constexpr std::string_view kInternalAddressSuffix = " without an IP rule for it";
constexpr std::string_view kLoopbackPrefix = "the sandbox's loopback port ";

std::optional<uint16_t> port_of(const nlohmann::json& event) {
  if (!event.contains("port") || !event["port"].is_number_integer()) return std::nullopt;
  const int64_t port = event["port"].get<int64_t>();
  if (port <= 0 || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

std::string string_field(const nlohmann::json& event, const char* name) {
  return event.contains(name) && event[name].is_string() ? event[name].get<std::string>() : "";
}

}  // namespace

std::vector<ConnectionAttempt> connection_attempts(const std::vector<nlohmann::json>& events) {
  std::vector<ConnectionAttempt> attempts;
  for (const nlohmann::json& event : events) {
    if (string_field(event, "event") != "egress.decision" || string_field(event, "via") == "dns")
      continue;
    std::optional<uint16_t> port = port_of(event);
    if (!port) continue;
    ConnectionAttempt attempt;
    attempt.host = string_field(event, "host");
    attempt.port = *port;
    attempt.via = string_field(event, "via");
    attempt.allowed = string_field(event, "decision") == "allow";
    attempt.reason = string_field(event, "reason");
    attempt.program = program_label(event.contains("process") ? event["process"] : nullptr);
    attempts.push_back(std::move(attempt));
  }
  return attempts;
}

AttemptNeed need_of(const ConnectionAttempt& attempt) {
  AttemptNeed need;
  if (attempt.host.empty()) return need;
  const std::string_view reason = attempt.reason;
  if (attempt.allowed) {
    need.destination = true;
    return need;
  }
  for (std::string_view prefix : kMissingRulePrefixes) {
    if (reason.starts_with(prefix)) need.destination = true;
  }
  for (std::string_view text : kAllowedButUnreachable) {
    if (reason.find(text) != std::string_view::npos) need.destination = true;
  }
  if (reason.starts_with(kLoopbackPrefix) && attempt.host == "localhost") need.destination = true;
  const size_t suffix = reason.find(kInternalAddressSuffix);
  const size_t space = reason.find(' ');
  if (suffix != std::string_view::npos && space != std::string_view::npos && space < suffix &&
      reason.substr(space).starts_with(" address (")) {
    need.destination = true;
    need.internal_address = std::string(reason.substr(0, space));
  }
  return need;
}

}  // namespace airlock::suggest
