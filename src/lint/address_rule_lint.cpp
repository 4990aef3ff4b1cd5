// IP and CIDR rules of the allowlist, and `internal: allow`. An address rule skips the name
// checks (SNI, Host, the DNS stub's answer), so it belongs where no name exists: internal
// services, narrowly.
#include <fmt/format.h>

#include <charconv>
#include <optional>

#include "egress/address_class.h"
#include "lint/lint_rules.h"

namespace airlock::lint {
namespace {

// Wider than this many prefix bits is "broader than a /24": more than 256 addresses.
constexpr unsigned kNarrowV4Prefix = 24;
constexpr unsigned kNarrowV6Prefix = 120;

struct AddressRange {
  egress::IpAddress network;
  unsigned prefix = 0;

  bool contains(const egress::IpAddress& address) const {
    if (address.family != network.family) return false;
    for (unsigned bit = 0; bit < prefix; ++bit) {
      const auto mask = static_cast<uint8_t>(0x80U >> (bit % 8));
      if ((address.bytes[bit / 8] & mask) != (network.bytes[bit / 8] & mask)) return false;
    }
    return true;
  }
  unsigned narrow_prefix() const { return network.is_v4() ? kNarrowV4Prefix : kNarrowV6Prefix; }
};

// "10.0.0.0/8", "10.1.2.3", "fd00::/8", "::1"; nullopt for a name rule.
std::optional<AddressRange> address_range(const std::string& host) {
  const size_t slash = host.find('/');
  std::optional<egress::IpAddress> address = egress::IpAddress::parse(host.substr(0, slash));
  if (!address) return std::nullopt;
  unsigned prefix = address->is_v4() ? 32 : 128;
  if (slash != std::string::npos) {
    const char* begin = host.data() + slash + 1;
    const char* end = host.data() + host.size();
    if (std::from_chars(begin, end, prefix).ptr != end) return std::nullopt;
  }
  return AddressRange{*address, prefix};
}

// Cloud instance metadata (AWS, GCP, Azure, ... on 169.254.169.254; AWS's IPv6 fd00:ec2::254):
// it hands out the machine's credentials to whoever asks.
bool reaches_metadata_service(const AddressRange& range) {
  for (const char* text : {"169.254.169.254", "fd00:ec2::254"}) {
    if (range.contains(*egress::IpAddress::parse(text))) return true;
  }
  return false;
}

std::string rule_text(const policy::NetworkRule& rule) {
  const bool ipv6 = rule.host.find(':') != std::string::npos;
  return ipv6 && rule.host.find('/') == std::string::npos
             ? fmt::format("[{}]:{}", rule.host, rule.port)
             : fmt::format("{}:{}", rule.host, rule.port);
}

void lint_address_rule(const policy::NetworkRule& rule, const AddressRange& range,
                       Findings& findings) {
  if (range.prefix == 0) {
    findings.push_back(
        {"network.any-address", Severity::error, rule.where,
         fmt::format("'{}' allows every {} address on port {}: the allowlist no "
                     "longer limits where data can go",
                     rule_text(rule), range.network.is_v4() ? "IPv4" : "IPv6", rule.port),
         "list the host names (or the single internal addresses) the program "
         "needs"});
    return;
  }
  if (reaches_metadata_service(range)) {
    findings.push_back({"network.metadata-address", Severity::error, rule.where,
                        fmt::format("'{}' reaches the cloud metadata service (169.254.169.254 / "
                                    "fd00:ec2::254), which hands out the machine's credentials",
                                    rule_text(rule)),
                        "remove the rule; give the program the one credential it needs through "
                        "credentials: instead"});
    return;
  }
  const egress::AddressClass kind = egress::classify_address(range.network).kind;
  if (!egress::is_internal(kind)) {
    findings.push_back(
        {"network.address-rule", Severity::warning, rule.where,
         fmt::format("'{}' allows a public address: an address rule skips the name checks (TLS "
                     "SNI, HTTP Host, DNS) and silently follows whoever holds the address next",
                     rule_text(rule)),
         "allow the host's name instead (NAME:PORT); keep address rules for internal services"});
    return;
  }
  if (range.prefix < range.narrow_prefix()) {
    findings.push_back(
        {"network.internal-range-too-broad", Severity::warning, rule.where,
         fmt::format("'{}' opens a {} range broader than a /{} on port {}: every internal "
                     "service there is reachable, not just the one the program needs",
                     rule_text(rule), egress::to_string(kind), range.narrow_prefix(), rule.port),
         fmt::format("list the one service's address instead (ADDRESS:{}, or a /{} at most)",
                     rule.port, range.narrow_prefix())});
  }
}

}  // namespace

void lint_address_rules(const LintContext& context, Findings& findings) {
  const policy::NetworkPolicy& network = context.policy.network;
  for (const policy::NetworkRule& rule : network.allow) {
    if (std::optional<AddressRange> range = address_range(rule.host))
      lint_address_rule(rule, *range, findings);
  }
  if (network.mode == policy::NetworkMode::allowlist && !network.deny_internal) {
    findings.push_back(
        {"network.internal-allowed", Severity::warning, network.internal_where,
         "internal: allow lets every allowed name resolve to loopback, private or link-local "
         "addresses (DNS rebinding onto the host's services and the cloud metadata service)",
         "remove it (the default is internal: deny) and allow each internal service by "
         "address, e.g. 10.20.0.7:5432"});
  }
}

}  // namespace airlock::lint
