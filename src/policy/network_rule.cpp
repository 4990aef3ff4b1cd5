#include "policy/network_rule.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace airlock::policy {
namespace {

bool is_label(const std::string& label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '-';
  });
}

bool is_dns_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    if (!is_label(name.substr(start, dot - start))) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool is_ipv4(const std::string& text) {
  in_addr address{};
  return inet_pton(AF_INET, text.c_str(), &address) == 1;  // strict dotted quad only
}

bool is_ipv6(const std::string& text) {
  in6_addr address{};
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool is_cidr(const std::string& text, bool* ipv6) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return false;
  std::string address = text.substr(0, slash);
  std::string bits = text.substr(slash + 1);
  unsigned prefix = 0;
  auto [end, error] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (bits.empty() || error != std::errc() || end != bits.data() + bits.size()) return false;
  if (is_ipv4(address)) {
    *ipv6 = false;
    return prefix <= 32;
  }
  if (is_ipv6(address)) {
    *ipv6 = true;
    return prefix <= 128;
  }
  return false;
}

}  // namespace

bool looks_like_inet_aton_number(std::string_view label) {
  if (label.empty()) return false;
  if (label.size() >= 2 && label[0] == '0' && label[1] == 'x') {
    return std::all_of(label.begin() + 2, label.end(),
                       [](unsigned char c) { return std::isxdigit(c); });
  }
  return std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::optional<DnsUpstream> parse_dns_upstream(const std::string& text) {
  std::string address = text;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    address = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port_text = text.substr(close + 2);
      if (port_text.empty()) return std::nullopt;
    }
    if (!is_ipv6(address)) return std::nullopt;
  } else if (!is_ipv6(text)) {
    size_t colon = text.find(':');
    if (colon != std::string::npos) {
      address = text.substr(0, colon);
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return std::nullopt;
    }
    if (!is_ipv4(address)) return std::nullopt;
  }
  DnsUpstream upstream{address, 53};
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return std::nullopt;
    }
    upstream.port = static_cast<uint16_t>(port);
  }
  return upstream;
}

NetworkRuleParse parse_network_rule(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return {std::nullopt, "'" + text + "' has no port; write HOST:PORT, e.g. api.example.com:443"};
  }
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return {std::nullopt, "'" + text + "' has no valid port (1-65535) after the last ':'"};
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (!is_ipv6(host)) return {std::nullopt, "'[" + host + "]' is not an IPv6 address"};
    return {NetworkRule{host, static_cast<uint16_t>(port), {}}, ""};
  }
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!host.empty() && host.back() == '.') host.pop_back();  // "example.com." is example.com
  bool cidr_is_v6 = false;
  if (is_ipv4(host) || is_cidr(host, &cidr_is_v6)) {
    return {NetworkRule{host, static_cast<uint16_t>(port), {}}, ""};
  }
  if (std::any_of(host.begin(), host.end(), [](unsigned char c) { return c >= 0x80; })) {
    return {std::nullopt, "'" + host + "' is not ASCII; write the punycode (xn--) form"};
  }
  std::string name = host;
  if (name.rfind("*.", 0) == 0) name = name.substr(2);
  if (!is_dns_name(name)) {
    return {std::nullopt, "'" + host +
                              "' is not a host name, IPv4 address, [IPv6] address or CIDR; a "
                              "wildcard is only allowed as a leading '*.' label"};
  }
  if (looks_like_inet_aton_number(name.substr(name.rfind('.') + 1))) {
    // 127.1, 2130706433, 0x7f.1, 0177.0.0.1: getaddrinfo reads these as IPv4 addresses (inet_aton
    // accepts decimal, octal and hex parts); no real top-level domain is numeric, so refuse them
    // rather than resolve them (THREATS bypass 2).
    return {std::nullopt, "'" + host + "' is not a dotted-quad IPv4 address; write all four parts"};
  }
  return {NetworkRule{host, static_cast<uint16_t>(port), {}}, ""};
}

}  // namespace airlock::policy
