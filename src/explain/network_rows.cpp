// network.egress (one row per allow and deny rule, then what is refused without a rule),
// network.dns, network.inbound and network.loopback, as the egress proxy decides
// (egress/host_matcher.h, destination_policy.h, address_class.h) and the capture routes
// (egress/sandbox_network.cpp, nftables_ruleset.cpp).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "egress/host_matcher.h"
#include "egress/ip_address.h"
#include "egress/sandbox_ports.h"
#include "explain/rows.h"

namespace airlock::explain {
namespace {

using policy::NetworkRule;

enum class RuleKind { name, wildcard, address, localhost };

RuleKind kind_of(const NetworkRule& rule) {
  if (rule.host == "localhost") return RuleKind::localhost;
  if (rule.host.rfind("*.", 0) == 0) return RuleKind::wildcard;
  if (rule.host.find('/') != std::string::npos || egress::IpAddress::parse(rule.host))
    return RuleKind::address;
  return RuleKind::name;
}

// "a.b.example.com" is strictly below "example.com"; "example.com" and "xexample.com" are not.
bool strictly_below(const std::string& name, const std::string& suffix) {
  return name.size() > suffix.size() + 1 &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
         name[name.size() - suffix.size() - 1] == '.';
}

// The address a rule names, and its prefix length ("10.0.0.0/8" -> 10.0.0.0, 8).
std::pair<std::optional<egress::IpAddress>, int> network_of(const std::string& host) {
  const size_t slash = host.find('/');
  std::optional<egress::IpAddress> address = egress::IpAddress::parse(host.substr(0, slash));
  if (!address) return {std::nullopt, 0};
  int bits = static_cast<int>(address->size() * 8);
  if (slash != std::string::npos) bits = std::stoi(host.substr(slash + 1));
  return {address, bits};
}

// Deny rules on the rule's port that take part of what it allows ("cuts"), or all of it.
struct Shadow {
  std::vector<std::string> cuts;
  std::string whole;  // the deny rule that leaves nothing of it, if any
};

Shadow shadow_of(const NetworkRule& allow, const std::vector<NetworkRule>& deny) {
  Shadow shadow;
  const RuleKind kind = kind_of(allow);
  const std::string suffix = kind == RuleKind::wildcard ? allow.host.substr(2) : allow.host;
  for (const NetworkRule& rule : deny) {
    if (rule.port != allow.port) continue;
    const RuleKind deny_kind = kind_of(rule);
    const std::string deny_suffix = deny_kind == RuleKind::wildcard ? rule.host.substr(2) : "";
    bool whole = false;
    bool cut = false;
    if (kind == RuleKind::name || kind == RuleKind::localhost) {
      whole = rule.host == allow.host ||
              (deny_kind == RuleKind::wildcard && strictly_below(allow.host, deny_suffix));
    } else if (kind == RuleKind::wildcard && deny_kind == RuleKind::wildcard) {
      whole = deny_suffix == suffix || strictly_below(suffix, deny_suffix);
      cut = strictly_below(deny_suffix, suffix);
    } else if (kind == RuleKind::wildcard && deny_kind == RuleKind::name) {
      cut = strictly_below(rule.host, suffix);
    } else if (kind == RuleKind::address && deny_kind == RuleKind::address) {
      // The matcher itself says which network holds which (IPv4-mapped forms included).
      const auto [allow_address, allow_bits] = network_of(allow.host);
      const auto [deny_address, deny_bits] = network_of(rule.host);
      if (!allow_address || !deny_address) continue;
      egress::HostMatcher deny_only({}, {rule});
      egress::HostMatcher allow_only({allow}, {});
      whole = deny_bits <= allow_bits &&
              deny_only.match_address(*allow_address, rule.port).rule != nullptr;
      cut = !whole && allow_only.match_address(*deny_address, rule.port).allowed;
    }
    if (whole && shadow.whole.empty()) shadow.whole = rule_text(rule);
    if (cut) shadow.cuts.push_back(rule_text(rule));
  }
  return shadow;
}

std::string meaning(const NetworkRule& rule) {
  switch (kind_of(rule)) {
    case RuleKind::name:
      return fmt::format("the name {} only (not the names below it), TCP port {}", rule.host,
                         rule.port);
    case RuleKind::wildcard: {
      const std::string suffix = rule.host.substr(2);
      return fmt::format(
          "any name strictly below {} (one or more labels: a.{}, a.b.{}), never {} itself; TCP "
          "port {}",
          suffix, suffix, suffix, suffix, rule.port);
    }
    case RuleKind::address:
      return fmt::format(
          "{} {} by address (an IP literal, or what an allowed name resolves to even when "
          "internal), TCP port {}; no name reaches it through this rule",
          rule.host.find('/') != std::string::npos ? "any address in" : "the address", rule.host,
          rule.port);
    case RuleKind::localhost:
      return fmt::format(
          "the host's own loopback, port {}: inside, 127.0.0.1:{} and localhost:{} lead there "
          "through the proxy (the name is never resolved)",
          rule.port, rule.port, rule.port);
  }
  return "";
}

// "NAME for HOST" of each credential whose real value the proxy uses on a name this rule allows,
// in TLS it terminates there.
std::vector<std::string> intercepting_credentials(const policy::Policy& policy,
                                                  const NetworkRule& rule) {
  std::vector<std::string> uses;
  const RuleKind kind = kind_of(rule);
  if (kind != RuleKind::name && kind != RuleKind::wildcard) return uses;
  auto matches = [&](const std::string& host, uint16_t port) {
    if (port != rule.port) return false;
    return kind == RuleKind::name ? host == rule.host : strictly_below(host, rule.host.substr(2));
  };
  for (const policy::CredentialRule& credential : policy.credentials) {
    if (credential.type == policy::CredentialType::mtls) {
      if (matches(credential.host, credential.port))
        uses.push_back(credential.name + " for " + credential.host);
      continue;
    }
    for (const std::string& host : credential.hosts) {
      if (matches(host, 443)) uses.push_back(credential.name + " for " + host);
    }
  }
  return uses;
}

std::vector<Layer> rule_layers(const NetworkRule& rule) {
  const RuleKind kind = kind_of(rule);
  if (kind == RuleKind::address || kind == RuleKind::localhost)
    return {Layer::namespaces, Layer::nftables, Layer::proxy};
  return {Layer::namespaces, Layer::nftables, Layer::dns_stub, Layer::proxy};
}

CapabilityRow allow_row(const policy::Policy& policy, const NetworkRule& rule) {
  CapabilityRow row;
  row.capability = "network.egress";
  row.targets = {rule_text(rule)};
  row.source = source_of(rule.where);
  row.layers = rule_layers(rule);
  const Shadow shadow = shadow_of(rule, policy.network.deny);
  if (!shadow.whole.empty()) {
    row.verdict = Verdict::denied;
    row.scope = meaning(rule) + "; but deny rule " + shadow.whole +
                " covers all of it (deny wins): this allow rule has no effect";
    return row;
  }
  row.verdict = Verdict::granted;
  row.scope = meaning(rule);
  if (!shadow.cuts.empty())
    row.scope += fmt::format("; except {} (deny rules win)", fmt::join(shadow.cuts, ", "));
  std::vector<std::string> credentials = intercepting_credentials(policy, rule);
  if (!credentials.empty()) {
    row.scope += fmt::format(
        "; TLS is terminated by airlock (run CA) only to use credential {}; every other name "
        "stays end-to-end TLS",
        fmt::join(credentials, ", "));
    row.layers.push_back(Layer::tls_interception);
  }
  return row;
}

CapabilityRow deny_row(const NetworkRule& rule) {
  CapabilityRow row;
  row.capability = "network.egress";
  row.verdict = Verdict::denied;
  row.targets = {rule_text(rule)};
  row.scope = meaning(rule) + "; refused whatever allow rule matches too (deny wins)";
  row.layers = rule_layers(rule);
  row.source = source_of(rule.where);
  return row;
}

CapabilityRow implicit_row(Verdict verdict, std::string target, std::string scope,
                           std::vector<Layer> layers) {
  CapabilityRow row;
  row.capability = "network.egress";
  row.verdict = verdict;
  row.targets = {std::move(target)};
  row.scope = std::move(scope);
  row.layers = std::move(layers);
  return row;
}

void add_implicit_denials(const policy::NetworkPolicy& network, std::vector<CapabilityRow>& rows) {
  rows.push_back(implicit_row(
      Verdict::denied, "other-destinations",
      "every other name, address or port: refused in the client's protocol (TCP reset, HTTP 403 "
      "with X-Airlock-Reason, SOCKS5 reply 2); a name no allow rule matches gets NXDOMAIN "
      "without any upstream query",
      {Layer::namespaces, Layer::nftables, Layer::dns_stub, Layer::proxy}));
  if (network.deny_internal) {
    rows.push_back(implicit_row(
        Verdict::denied, "internal-addresses",
        "what an allowed name resolves to in loopback, RFC 1918, link-local (cloud metadata "
        "169.254.169.254), CGNAT, ULA, multicast, unspecified and reserved ranges, or IPv6 forms "
        "embedding them (v4-mapped, NAT64, 6to4), unless an IP/CIDR allow rule lists that address "
        "and port (internal: deny)",
        {Layer::dns_stub, Layer::proxy}));
  } else {
    rows.push_back(implicit_row(
        Verdict::granted, "internal-addresses",
        "internal addresses an allowed name resolves to are dialled (internal: allow); "
        "unspecified, multicast and broadcast addresses never are",
        {Layer::dns_stub, Layer::proxy}));
  }
  rows.push_back(implicit_row(
      Verdict::denied, "ip-literals",
      "IP literals no IP/CIDR rule lists, and alternate IPv4 spellings (2130706433, 0177.0.0.1, "
      "0x7f.1, 127.1), which are refused, never resolved",
      {Layer::proxy}));
  rows.push_back(implicit_row(
      Verdict::denied, "dns-rebinding",
      "a second resolution to another address: the proxy dials exactly the address it checked",
      {Layer::proxy}));
  rows.push_back(implicit_row(
      Verdict::denied, "name-mismatch",
      "TLS SNI, the HTTP Host of every request on a connection, the CONNECT/SOCKS5 target and the "
      "DNS-mapped name must agree; otherwise the connection is cut before the disagreeing bytes "
      "are forwarded",
      {Layer::proxy}));
  rows.push_back(implicit_row(
      Verdict::denied, "udp-icmp-raw",
      "UDP other than DNS (port 53 goes to airlock's stub), ICMP and other IP protocols are "
      "dropped; raw, packet and other socket families are refused",
      {Layer::nftables, Layer::seccomp}));
  CapabilityRow connections = implicit_row(
      Verdict::limited, fmt::format("max_connections={}", network.max_connections),
      fmt::format("at most {} concurrent proxied connections", network.max_connections),
      {Layer::proxy});
  rows.push_back(std::move(connections));
}

// The names the DNS stub resolves: those of allow rules some deny rule does not cover whole.
std::vector<std::string> resolvable_names(const policy::NetworkPolicy& network) {
  std::vector<std::string> names;
  for (const NetworkRule& rule : network.allow) {
    const RuleKind kind = kind_of(rule);
    if (kind == RuleKind::address || kind == RuleKind::localhost) continue;
    if (!shadow_of(rule, network.deny).whole.empty()) continue;
    if (std::find(names.begin(), names.end(), rule.host) == names.end()) names.push_back(rule.host);
  }
  return names;
}

void add_allowlist_rows(const policy::Policy& policy, std::vector<CapabilityRow>& rows) {
  const policy::NetworkPolicy& network = policy.network;
  for (const NetworkRule& rule : network.allow) rows.push_back(allow_row(policy, rule));
  for (const NetworkRule& rule : network.deny) rows.push_back(deny_row(rule));
  add_implicit_denials(network, rows);

  CapabilityRow dns;
  dns.capability = "network.dns";
  dns.verdict = Verdict::granted;
  dns.targets = resolvable_names(network);
  dns.scope = fmt::format(
      "A and AAAA for the names allow rules match (on any port), resolved by airlock through {} "
      "and answered with the addresses that may be dialled; localhost is answered locally; any "
      "other name gets NXDOMAIN with no upstream query; other record types are REFUSED; every "
      "UDP/TCP port 53 packet, to any address, goes to the stub",
      network.dns_upstream ? *network.dns_upstream : "the host's resolver");
  dns.layers = {Layer::nftables, Layer::dns_stub};
  dns.source = source_of(network.dns_upstream_where);
  rows.push_back(std::move(dns));
}

void add_no_network_rows(const policy::NetworkPolicy& network, std::vector<CapabilityRow>& rows) {
  CapabilityRow egress = implicit_row(Verdict::denied, "*",
                                      "everything except the sandbox's own loopback: no interface "
                                      "but lo, no route",
                                      {Layer::namespaces});
  egress.source = source_of(network.mode_where);
  rows.push_back(std::move(egress));
  CapabilityRow dns;
  dns.capability = "network.dns";
  dns.verdict = Verdict::denied;
  dns.targets = {"*"};
  dns.scope = "no resolver: no name gets an answer (no route to any server)";
  dns.layers = {Layer::namespaces};
  rows.push_back(std::move(dns));
}

}  // namespace

std::string rule_text(const NetworkRule& rule) {
  const bool ipv6 =
      rule.host.find(':') != std::string::npos && rule.host.find('/') == std::string::npos;
  return ipv6 ? fmt::format("[{}]:{}", rule.host, rule.port)
              : fmt::format("{}:{}", rule.host, rule.port);
}

void add_network_rows(const policy::Policy& policy, std::vector<CapabilityRow>& rows) {
  const policy::NetworkPolicy& network = policy.network;
  if (network.mode == policy::NetworkMode::allowlist) {
    add_allowlist_rows(policy, rows);
  } else {
    add_no_network_rows(network, rows);
  }
  for (const policy::PublishRule& rule : policy.publish) {
    CapabilityRow published;
    published.capability = "network.inbound";
    published.verdict = Verdict::granted;
    const std::string inside = rule.port != 0 ? fmt::format("127.0.0.1:{}", rule.port)
                                              : "the agent's own socket " + rule.unix_path;
    published.targets = {"unix:" + rule.unix_path};
    std::string peers = "the sandbox's owner and root";
    for (uint32_t uid : rule.uids) peers += fmt::format(", uid {}", uid);
    published.scope = fmt::format(
        "the host socket {} (mode {:04o}) leads to {} inside; peers by SO_PEERCRED: {} (the "
        "owner's not from inside a sandbox); each connection audited (publish.connect); no TCP "
        "port on "
        "the host",
        rule.unix_path, rule.mode, inside, peers);
    published.layers = {Layer::supervisor, Layer::namespaces};
    if (rule.port == 0) published.layers.push_back(Layer::mount);
    published.source = rule.where.to_string();
    rows.push_back(std::move(published));
  }
  CapabilityRow inbound;
  inbound.capability = "network.inbound";
  inbound.verdict = Verdict::denied;
  inbound.targets = {"*"};
  inbound.scope = policy.publish.empty()
                      ? "nothing outside can connect in: the sandbox's network namespace has "
                        "only its own lo"
                      : "nothing else can connect in: the sandbox's network namespace has only "
                        "its own lo, reached from the host only through the published sockets";
  if (network.mode == policy::NetworkMode::allowlist) {
    inbound.scope += fmt::format(
        "; airlock's listeners inside (DNS {}, SOCKS5 {}, HTTP proxy {}, transparent {}) serve "
        "only the sandbox",
        egress::kDnsPort, egress::kSocksPort, egress::kHttpProxyPort, egress::kTransparentPort);
  }
  inbound.layers = {Layer::namespaces};
  rows.push_back(std::move(inbound));

  CapabilityRow loopback;
  loopback.capability = "network.loopback";
  loopback.verdict = Verdict::granted;
  loopback.targets = {"lo"};
  loopback.scope =
      "the sandbox's own loopback, private to it: local IPC between its processes works; host "
      "abstract Unix sockets and host services on 127.0.0.1 are not reachable (except ports of "
      "localhost rules, through the proxy)";
  loopback.layers = {Layer::namespaces};
  rows.push_back(std::move(loopback));
}

}  // namespace airlock::explain
