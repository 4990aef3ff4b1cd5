// What kind of address an IP literal or a resolved answer is, so that "internal" (loopback,
// private, link-local and metadata, ...) is refused however it is spelled (THREATS.md bypass 3).
#pragma once

#include "egress/ip_address.h"

namespace airlock::egress {

enum class AddressClass {
  public_unicast,  // everything else, including the documentation ranges (see address_class.cpp)
  loopback,        // 127/8, ::1
  private_use,     // 10/8, 172.16/12, 192.168/16
  link_local,      // 169.254/16 (cloud metadata 169.254.169.254), fe80::/10
  shared_cgnat,    // 100.64/10
  unique_local,    // fc00::/7
  multicast,       // 224/4, ff00::/8
  unspecified,     // 0.0.0.0/8, ::
  broadcast,       // 255.255.255.255
  reserved,        // 240/4, 192.0.0.0/24, 192.88.99/24, 198.18/15; 2001::/23 (with Teredo
                   // 2001::/32), fec0::/10, IPv6 outside 2000::/3 not named above (100::/64, ...),
                   // and IPv4-compatible ::a.b.c.d of a public address
};
// "public", "loopback", "private", "link-local", "cgnat", "ula", "multicast", "unspecified",
// "broadcast", "reserved"
const char* to_string(AddressClass c);

struct AddressVerdict {
  AddressClass kind = AddressClass::reserved;
  IpAddress effective;    // what was classified: the IPv4 inside, when the IPv6 embeds one
  bool embedded = false;  // `effective` is an IPv4 address taken out of an IPv6 one
};

// IPv6 forms that carry an IPv4 address are classified by it: v4-mapped ::ffff:0:0/96, NAT64
// 64:ff9b::/96 and 64:ff9b:1::/48 (last 32 bits), 6to4 2002::/16 (bits 16..47) and the
// deprecated IPv4-compatible ::/96 (but :: and ::1 stay unspecified and loopback).
AddressVerdict classify_address(const IpAddress& address);

inline bool is_internal(AddressClass c) {
  return c != AddressClass::public_unicast;
}

}  // namespace airlock::egress
