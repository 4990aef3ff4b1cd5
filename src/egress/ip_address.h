// One IPv4 or IPv6 address, the value every egress decision is made about. Parsing is strict
// (inet_pton only): the alternate spellings getaddrinfo accepts (127.1, 0x7f.1, 2130706433) and
// IPv6 zone ids are not addresses here.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace airlock::egress {

struct IpAddress {
  sa_family_t family = AF_INET;     // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; an IPv4 address uses the first 4

  static IpAddress v4(const in_addr& address);
  static IpAddress v6(const in6_addr& address);
  // inet_pton: dotted quad without leading zeros, or RFC 4291 text without brackets or zone.
  static std::optional<IpAddress> parse(std::string_view text);
  static std::optional<IpAddress> from_sockaddr(const sockaddr* address, socklen_t length);

  bool is_v4() const { return family == AF_INET; }
  size_t size() const { return is_v4() ? 4 : 16; }
  std::string to_string() const;  // canonical text (inet_ntop), no brackets
  // A socket address for connect()/bind(); *length receives its size.
  sockaddr_storage to_sockaddr(uint16_t port, socklen_t* length) const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family == b.family && a.bytes == b.bytes;
  }
};

// The port of an AF_INET/AF_INET6 socket address, host order (0 for other families).
uint16_t port_of(const sockaddr_storage& address);

}  // namespace airlock::egress
