// Which addresses are internal, on both sides of every range boundary, however IPv6 spells an
// IPv4 address inside it (THREATS.md bypass 3).
#include <gtest/gtest.h>

#include <string>

#include "egress/address_class.h"

namespace airlock::egress {
namespace {

IpAddress address(const std::string& text) {
  std::optional<IpAddress> parsed = IpAddress::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(IpAddress{});
}

// `text` is classified as `kind` by itself (no embedded IPv4 address).
void expect_class(const std::string& text, AddressClass kind) {
  AddressVerdict verdict = classify_address(address(text));
  EXPECT_EQ(verdict.kind, kind) << text << " is " << to_string(verdict.kind) << ", not "
                                << to_string(kind);
  EXPECT_FALSE(verdict.embedded) << text;
  EXPECT_EQ(verdict.effective, address(text)) << text;
}

// `text` is an IPv6 address classified as `kind` by the IPv4 address `inside` it.
void expect_embedded(const std::string& text, AddressClass kind, const std::string& inside) {
  AddressVerdict verdict = classify_address(address(text));
  EXPECT_EQ(verdict.kind, kind) << text << " is " << to_string(verdict.kind) << ", not "
                                << to_string(kind);
  EXPECT_TRUE(verdict.embedded) << text;
  EXPECT_EQ(verdict.effective, address(inside))
      << text << " embeds " << verdict.effective.to_string();
}

TEST(AddressClassNames, EveryClassHasItsName) {
  EXPECT_STREQ(to_string(AddressClass::public_unicast), "public");
  EXPECT_STREQ(to_string(AddressClass::loopback), "loopback");
  EXPECT_STREQ(to_string(AddressClass::private_use), "private");
  EXPECT_STREQ(to_string(AddressClass::link_local), "link-local");
  EXPECT_STREQ(to_string(AddressClass::shared_cgnat), "cgnat");
  EXPECT_STREQ(to_string(AddressClass::unique_local), "ula");
  EXPECT_STREQ(to_string(AddressClass::multicast), "multicast");
  EXPECT_STREQ(to_string(AddressClass::unspecified), "unspecified");
  EXPECT_STREQ(to_string(AddressClass::broadcast), "broadcast");
  EXPECT_STREQ(to_string(AddressClass::reserved), "reserved");
  EXPECT_FALSE(is_internal(AddressClass::public_unicast));
  EXPECT_TRUE(is_internal(AddressClass::loopback));
  EXPECT_TRUE(is_internal(AddressClass::reserved));
}

TEST(AddressClassV4, PublicAddresses) {
  for (const char* text : {"8.8.8.8", "1.1.1.1", "1.0.0.0", "223.255.255.255", "100.0.0.1"}) {
    expect_class(text, AddressClass::public_unicast);
  }
}

TEST(AddressClassV4, ThisNetworkIsUnspecified) {
  expect_class("0.0.0.0", AddressClass::unspecified);
  expect_class("0.255.255.255", AddressClass::unspecified);
  expect_class("1.0.0.0", AddressClass::public_unicast);
}

TEST(AddressClassV4, Loopback) {
  expect_class("126.255.255.255", AddressClass::public_unicast);
  expect_class("127.0.0.0", AddressClass::loopback);
  expect_class("127.0.0.1", AddressClass::loopback);
  expect_class("127.255.255.255", AddressClass::loopback);
  expect_class("128.0.0.0", AddressClass::public_unicast);
}

TEST(AddressClassV4, PrivateTen) {
  expect_class("9.255.255.255", AddressClass::public_unicast);
  expect_class("10.0.0.0", AddressClass::private_use);
  expect_class("10.255.255.255", AddressClass::private_use);
  expect_class("11.0.0.0", AddressClass::public_unicast);
}

TEST(AddressClassV4, PrivateOneSevenTwo) {
  expect_class("172.15.255.255", AddressClass::public_unicast);
  expect_class("172.16.0.0", AddressClass::private_use);
  expect_class("172.31.255.255", AddressClass::private_use);
  expect_class("172.32.0.0", AddressClass::public_unicast);
}

TEST(AddressClassV4, PrivateOneNineTwo) {
  expect_class("192.167.255.255", AddressClass::public_unicast);
  expect_class("192.168.0.0", AddressClass::private_use);
  expect_class("192.168.255.255", AddressClass::private_use);
  expect_class("192.169.0.0", AddressClass::public_unicast);
}

TEST(AddressClassV4, LinkLocalAndMetadata) {
  expect_class("169.253.255.255", AddressClass::public_unicast);
  expect_class("169.254.0.0", AddressClass::link_local);
  expect_class("169.254.169.254", AddressClass::link_local);
  expect_class("169.254.255.255", AddressClass::link_local);
  expect_class("169.255.0.0", AddressClass::public_unicast);
}

TEST(AddressClassV4, SharedCgnat) {
  expect_class("100.63.255.255", AddressClass::public_unicast);
  expect_class("100.64.0.0", AddressClass::shared_cgnat);
  expect_class("100.127.255.255", AddressClass::shared_cgnat);
  expect_class("100.128.0.0", AddressClass::public_unicast);
}

TEST(AddressClassV4, ProtocolAssignmentsAndDeprecatedRelay) {
  expect_class("191.255.255.255", AddressClass::public_unicast);
  expect_class("192.0.0.0", AddressClass::reserved);
  expect_class("192.0.0.255", AddressClass::reserved);
  expect_class("192.0.1.0", AddressClass::public_unicast);
  expect_class("192.88.98.255", AddressClass::public_unicast);
  expect_class("192.88.99.0", AddressClass::reserved);
  expect_class("192.88.99.255", AddressClass::reserved);
  expect_class("192.88.100.0", AddressClass::public_unicast);
}

TEST(AddressClassV4, Benchmarking) {
  expect_class("198.17.255.255", AddressClass::public_unicast);
  expect_class("198.18.0.0", AddressClass::reserved);
  expect_class("198.19.255.255", AddressClass::reserved);
  expect_class("198.20.0.0", AddressClass::public_unicast);
}

TEST(AddressClassV4, DocumentationRangesArePublic) {
  // The tests' origin server lives at 198.51.100.10 in a network namespace.
  for (const char* text : {"192.0.2.0", "192.0.2.255", "198.51.100.0", "198.51.100.10",
                           "198.51.100.255", "203.0.113.0", "203.0.113.255"}) {
    expect_class(text, AddressClass::public_unicast);
  }
}

TEST(AddressClassV4, MulticastReservedAndBroadcast) {
  expect_class("223.255.255.255", AddressClass::public_unicast);
  expect_class("224.0.0.0", AddressClass::multicast);
  expect_class("239.255.255.255", AddressClass::multicast);
  expect_class("240.0.0.0", AddressClass::reserved);
  expect_class("255.255.255.254", AddressClass::reserved);
  expect_class("255.255.255.255", AddressClass::broadcast);
}

TEST(AddressClassV6, UnspecifiedAndLoopback) {
  expect_class("::", AddressClass::unspecified);
  expect_class("::1", AddressClass::loopback);
}

TEST(AddressClassV6, GlobalUnicastIsPublic) {
  expect_class("2606:4700:4700::1111", AddressClass::public_unicast);
  expect_class("2000::", AddressClass::public_unicast);
  expect_class("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::public_unicast);
  expect_class("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved);
  expect_class("4000::", AddressClass::reserved);
  expect_class("2001:db8::1", AddressClass::public_unicast);  // documentation
  expect_class("3fff::1", AddressClass::public_unicast);      // documentation (RFC 9637)
}

TEST(AddressClassV6, UniqueLocal) {
  expect_class("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved);
  expect_class("fc00::", AddressClass::unique_local);
  expect_class("fd12:3456::1", AddressClass::unique_local);
  expect_class("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::unique_local);
  expect_class("fe00::", AddressClass::reserved);
}

TEST(AddressClassV6, LinkLocalSiteLocalAndMulticast) {
  expect_class("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved);
  expect_class("fe80::", AddressClass::link_local);
  expect_class("fe80::1", AddressClass::link_local);
  expect_class("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::link_local);
  expect_class("fec0::", AddressClass::reserved);
  expect_class("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved);
  expect_class("ff00::", AddressClass::multicast);
  expect_class("ff02::1", AddressClass::multicast);
  expect_class("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::multicast);
}

TEST(AddressClassV6, DiscardAndProtocolAssignments) {
  expect_class("100::", AddressClass::reserved);
  expect_class("100::ffff:ffff:ffff:ffff", AddressClass::reserved);
  expect_class("2001::", AddressClass::reserved);
  expect_class("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved);
  expect_class("2001:200::", AddressClass::public_unicast);
  expect_class("2001:2::1", AddressClass::reserved);  // benchmarking
}

// Teredo carries a server and an obfuscated client IPv4 address, neither of which is where the
// bytes go: reserved, whatever they are.
TEST(AddressClassV6, TeredoIsReserved) {
  expect_class("2001:0:4136:e378:8000:63bf:3fff:fdd2", AddressClass::reserved);
  expect_class("2001:0:a00:1:0:0:80ff:fffe", AddressClass::reserved);  // 10.0.0.1, 127.0.0.1
}

TEST(AddressClassV6, V4MappedIsTheIpv4Address) {
  expect_embedded("::ffff:127.0.0.1", AddressClass::loopback, "127.0.0.1");
  expect_embedded("::ffff:7f00:1", AddressClass::loopback, "127.0.0.1");
  expect_embedded("::ffff:10.0.0.1", AddressClass::private_use, "10.0.0.1");
  expect_embedded("::ffff:169.254.169.254", AddressClass::link_local, "169.254.169.254");
  expect_embedded("::ffff:0.0.0.0", AddressClass::unspecified, "0.0.0.0");
  expect_embedded("::ffff:8.8.8.8", AddressClass::public_unicast, "8.8.8.8");
  // Next to the mapped block: ::fffe:0:0/96 and ::1:0:0:0 are no embedding, just reserved.
  expect_class("::fffe:7f00:1", AddressClass::reserved);
  expect_class("::1:0:7f00:1", AddressClass::reserved);
  expect_class("::ffff:0:7f00:1", AddressClass::reserved);  // SIIT "IPv4-translated"
}

TEST(AddressClassV6, IPv4CompatibleIsTheIpv4AddressButNeverPublic) {
  expect_embedded("::127.0.0.1", AddressClass::loopback, "127.0.0.1");
  expect_embedded("::10.0.0.1", AddressClass::private_use, "10.0.0.1");
  expect_embedded("::169.254.169.254", AddressClass::link_local, "169.254.169.254");
  expect_embedded("::8.8.8.8", AddressClass::reserved, "8.8.8.8");
}

TEST(AddressClassV6, Nat64WellKnownPrefix) {
  expect_embedded("64:ff9b::a00:1", AddressClass::private_use, "10.0.0.1");
  expect_embedded("64:ff9b::127.0.0.1", AddressClass::loopback, "127.0.0.1");
  expect_embedded("64:ff9b::169.254.169.254", AddressClass::link_local, "169.254.169.254");
  expect_embedded("64:ff9b::8.8.8.8", AddressClass::public_unicast, "8.8.8.8");
  expect_class("64:ff9b::1:a00:1", AddressClass::reserved);  // outside the /96
}

TEST(AddressClassV6, Nat64LocalUsePrefix) {
  expect_embedded("64:ff9b:1::a00:1", AddressClass::private_use, "10.0.0.1");
  expect_embedded("64:ff9b:1:ffff:ffff:ffff:7f00:1", AddressClass::loopback, "127.0.0.1");
  expect_embedded("64:ff9b:1::8.8.8.8", AddressClass::public_unicast, "8.8.8.8");
  expect_class("64:ff9b:2::a00:1", AddressClass::reserved);
}

TEST(AddressClassV6, SixToFour) {
  expect_embedded("2002:a9fe:a9fe::", AddressClass::link_local, "169.254.169.254");
  expect_embedded("2002:7f00:1::1", AddressClass::loopback, "127.0.0.1");
  expect_embedded("2002:c0a8:101:1::1", AddressClass::private_use, "192.168.1.1");
  expect_embedded("2002:6440:1::", AddressClass::shared_cgnat, "100.64.0.1");
  expect_embedded("2002:808:808::", AddressClass::public_unicast, "8.8.8.8");
  expect_class("2001:ffff:a9fe:a9fe::", AddressClass::public_unicast);  // just below 2002::/16
  expect_class("2003:a9fe:a9fe::", AddressClass::public_unicast);       // just above
}

}  // namespace
}  // namespace airlock::egress
