#include "egress/address_class.h"

#include <cstring>
#include <initializer_list>
#include <optional>
#include <tuple>
#include <vector>

namespace airlock::egress {
namespace {

struct Range {
  IpAddress network;
  unsigned bits = 0;
  AddressClass kind = AddressClass::reserved;
};

std::vector<Range> ranges(
    std::initializer_list<std::tuple<const char*, unsigned, AddressClass>> rows) {
  std::vector<Range> table;
  for (const auto& [text, bits, kind] : rows)
    table.push_back({*IpAddress::parse(text), bits, kind});
  return table;
}

bool in_prefix(const IpAddress& address, const IpAddress& network, unsigned bits) {
  unsigned whole = bits / 8;
  if (std::memcmp(address.bytes.data(), network.bytes.data(), whole) != 0) return false;
  unsigned rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[whole] & mask) == (network.bytes[whole] & mask);
}

// IANA's special-purpose registries, minus the documentation ranges 192.0.2/24, 198.51.100/24,
// 203.0.113/24 and 2001:db8::/32, 3fff::/20: the tests run their origin at 198.51.100.10 in a
// network namespace, and the internet routes none of them anyway. First match wins.
const std::vector<Range>& v4_ranges() {
  static const std::vector<Range> table = ranges({
      {"0.0.0.0", 8, AddressClass::unspecified},  // "this network": 0.0.0.0 connects to loopback
      {"10.0.0.0", 8, AddressClass::private_use},
      {"100.64.0.0", 10, AddressClass::shared_cgnat},
      {"127.0.0.0", 8, AddressClass::loopback},
      {"169.254.0.0", 16, AddressClass::link_local},  // 169.254.169.254: cloud metadata
      {"172.16.0.0", 12, AddressClass::private_use},
      {"192.0.0.0", 24, AddressClass::reserved},    // IETF protocol assignments
      {"192.88.99.0", 24, AddressClass::reserved},  // 6to4 relay anycast, deprecated (RFC 7526)
      {"192.168.0.0", 16, AddressClass::private_use},
      {"198.18.0.0", 15, AddressClass::reserved},  // benchmarking (RFC 2544)
      {"224.0.0.0", 4, AddressClass::multicast},
      {"255.255.255.255", 32, AddressClass::broadcast},
      {"240.0.0.0", 4, AddressClass::reserved},
  });
  return table;
}

// Checked after :: and ::1 and the forms that embed an IPv4 address.
const std::vector<Range>& v6_ranges() {
  static const std::vector<Range> table = ranges({
      // IETF protocol assignments, like 192.0.0.0/24. It holds Teredo (2001::/32), reserved
      // rather than classified by its IPv4 parts: the bytes go through a relay and the client's
      // NAT, so neither the server nor the obfuscated client address is the host they reach.
      {"2001::", 23, AddressClass::reserved},
      {"2000::", 3, AddressClass::public_unicast},  // global unicast; all that routes today
      {"fc00::", 7, AddressClass::unique_local},
      {"fe80::", 10, AddressClass::link_local},
      {"fec0::", 10, AddressClass::reserved},  // site-local, deprecated (RFC 3879)
      {"ff00::", 8, AddressClass::multicast},
      {"::", 0, AddressClass::reserved},  // unassigned, 100::/64 discard, ::ffff:0:0:0/96, ...
  });
  return table;
}

AddressClass classify_v4(const IpAddress& address) {
  for (const Range& range : v4_ranges()) {
    if (in_prefix(address, range.network, range.bits)) return range.kind;
  }
  return AddressClass::public_unicast;
}

IpAddress v4_at(const IpAddress& address, size_t offset) {
  IpAddress v4;
  v4.family = AF_INET;
  std::memcpy(v4.bytes.data(), address.bytes.data() + offset, 4);
  return v4;
}

// The IPv6 forms that carry an IPv4 address, and where it sits in them.
struct Embedding {
  IpAddress prefix;
  unsigned bits = 0;
  size_t offset = 12;
};

std::optional<size_t> embedded_v4_offset(const IpAddress& address) {
  static const std::vector<Embedding> forms = {
      {*IpAddress::parse("::ffff:0:0"), 96, 12},   // v4-mapped
      {*IpAddress::parse("64:ff9b::"), 96, 12},    // NAT64 well-known prefix (RFC 6052)
      {*IpAddress::parse("64:ff9b:1::"), 48, 12},  // NAT64 local use (RFC 8215)
      {*IpAddress::parse("::"), 96, 12},           // IPv4-compatible (RFC 4291 2.5.5.1)
      {*IpAddress::parse("2002::"), 16, 2},        // 6to4 (RFC 3056)
  };
  for (const Embedding& form : forms) {
    if (in_prefix(address, form.prefix, form.bits)) return form.offset;
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(AddressClass c) {
  switch (c) {
    case AddressClass::public_unicast:
      return "public";
    case AddressClass::loopback:
      return "loopback";
    case AddressClass::private_use:
      return "private";
    case AddressClass::link_local:
      return "link-local";
    case AddressClass::shared_cgnat:
      return "cgnat";
    case AddressClass::unique_local:
      return "ula";
    case AddressClass::multicast:
      return "multicast";
    case AddressClass::unspecified:
      return "unspecified";
    case AddressClass::broadcast:
      return "broadcast";
    case AddressClass::reserved:
      return "reserved";
  }
  return "reserved";
}

AddressVerdict classify_address(const IpAddress& address) {
  if (address.is_v4()) return {classify_v4(address), address, false};
  static const IpAddress kUnspecified = *IpAddress::parse("::");
  static const IpAddress kLoopback = *IpAddress::parse("::1");
  if (address == kUnspecified) return {AddressClass::unspecified, address, false};
  if (address == kLoopback) return {AddressClass::loopback, address, false};
  if (std::optional<size_t> offset = embedded_v4_offset(address)) {
    IpAddress inside = v4_at(address, *offset);
    AddressClass kind = classify_v4(inside);
    // ::8.8.8.8 still reaches 8.8.8.8 only through a deprecated automatic tunnel (sit0), if
    // at all: nothing legitimate uses IPv4-compatible addresses, so a public one is reserved.
    bool compatible = in_prefix(address, kUnspecified, 96);
    if (compatible && kind == AddressClass::public_unicast) kind = AddressClass::reserved;
    return {kind, inside, true};
  }
  for (const Range& range : v6_ranges()) {
    if (in_prefix(address, range.network, range.bits)) return {range.kind, address, false};
  }
  return {AddressClass::reserved, address, false};
}

}  // namespace airlock::egress
