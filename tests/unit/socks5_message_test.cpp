// SOCKS5 greetings and requests from sandboxed clients (RFC 1928): what the proxy is asked to
// connect to, byte for byte, and the reply code for anything it cannot read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wire/socks5_message.h"

namespace airlock::egress {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

Socks5RequestParse request(const Bytes& bytes) {
  return parse_socks5_request(bytes);
}

// Parses `bytes`, which must be refused with `reply_code`, and returns the explanation.
std::string expect_refused(const Bytes& bytes, uint8_t reply_code = socks5_reply::general_failure) {
  Socks5RequestParse parsed = request(bytes);
  EXPECT_EQ(parsed.status, ParseStatus::invalid);
  EXPECT_EQ(parsed.reply_code, reply_code);
  EXPECT_FALSE(parsed.problem.empty());
  EXPECT_EQ(parsed.problem.find('\n'), std::string::npos);
  return parsed.problem;
}

void expect_every_prefix_needs_more(const Bytes& bytes) {
  for (size_t size = 0; size < bytes.size(); ++size) {
    const Bytes prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_EQ(request(prefix).status, ParseStatus::need_more) << size;
  }
}

// Captured from curl 7.88.1 (`curl --socks5-hostname 127.0.0.1:10800 https://api.example.test/`
// against a Python listener on loopback that answered the greeting with 05 00): a greeting
// offering no-auth and GSSAPI, then CONNECT to a domain.
const Bytes kCurlGreeting = {5, 2, 0, 1};
const Bytes kCurlConnect = {5,   1,   0,   3,   16,  'a', 'p', 'i', '.', 'e', 'x', 'a',
                            'm', 'p', 'l', 'e', '.', 't', 'e', 's', 't', 1,   187};

TEST(Socks5Greeting, NoAuthOffered) {
  Socks5GreetingParse parsed = parse_socks5_greeting(kCurlGreeting);
  ASSERT_EQ(parsed.status, ParseStatus::complete);
  EXPECT_TRUE(parsed.greeting.offers_no_auth);
  EXPECT_EQ(parsed.greeting.length, 4U);
  parsed = parse_socks5_greeting(Bytes{5, 1, 0, 5, 1, 0});  // the request already follows
  ASSERT_EQ(parsed.status, ParseStatus::complete);
  EXPECT_EQ(parsed.greeting.length, 3U);
}

TEST(Socks5Greeting, NoAuthNotOffered) {
  Socks5GreetingParse parsed = parse_socks5_greeting(Bytes{5, 2, 1, 2});
  ASSERT_EQ(parsed.status, ParseStatus::complete);
  EXPECT_FALSE(parsed.greeting.offers_no_auth);
}

TEST(Socks5Greeting, IncompleteAndInvalid) {
  EXPECT_EQ(parse_socks5_greeting(Bytes{}).status, ParseStatus::need_more);
  EXPECT_EQ(parse_socks5_greeting(Bytes{5}).status, ParseStatus::need_more);
  EXPECT_EQ(parse_socks5_greeting(Bytes{5, 3, 0, 1}).status, ParseStatus::need_more);
  Socks5GreetingParse parsed = parse_socks5_greeting(Bytes{5, 0});
  EXPECT_EQ(parsed.status, ParseStatus::invalid);
  EXPECT_THAT(parsed.problem, HasSubstr("offers no method"));
  parsed = parse_socks5_greeting(Bytes{4, 1, 0, 80, 127, 0, 0, 1, 0});
  EXPECT_EQ(parsed.status, ParseStatus::invalid);
  EXPECT_THAT(parsed.problem, HasSubstr("SOCKS4 is not supported"));
  parsed = parse_socks5_greeting(Bytes{'G', 'E', 'T'});
  EXPECT_EQ(parsed.status, ParseStatus::invalid);
  EXPECT_THAT(parsed.problem, HasSubstr("not SOCKS5"));
}

TEST(Socks5Request, ConnectToDomain) {
  const Bytes& bytes = kCurlConnect;
  Socks5RequestParse parsed = request(bytes);
  ASSERT_EQ(parsed.status, ParseStatus::complete) << parsed.problem;
  EXPECT_EQ(parsed.request.command, 1);
  EXPECT_EQ(parsed.request.address_type, Socks5AddressType::domain);
  EXPECT_EQ(parsed.request.domain, "api.example.test");
  EXPECT_EQ(parsed.request.address, std::nullopt);
  EXPECT_EQ(parsed.request.port, 443);
  EXPECT_EQ(parsed.request.length, bytes.size());
  expect_every_prefix_needs_more(bytes);
}

TEST(Socks5Request, DomainBytesAreKeptAsSent) {
  const Bytes bytes = {5, 1, 0, 3, 5, 'A', '.', 'e', 'X', '.', 0, 80, 'x', 'x'};
  Socks5RequestParse parsed = request(bytes);
  ASSERT_EQ(parsed.status, ParseStatus::complete) << parsed.problem;
  EXPECT_EQ(parsed.request.domain, "A.eX.");  // normalising is the policy's job
  EXPECT_EQ(parsed.request.port, 80);
  EXPECT_EQ(parsed.request.length, 12U);
}

TEST(Socks5Request, ConnectToIpv4) {
  const Bytes bytes = {5, 1, 0, 1, 10, 1, 2, 3, 0x1f, 0x90};
  Socks5RequestParse parsed = request(bytes);
  ASSERT_EQ(parsed.status, ParseStatus::complete);
  EXPECT_EQ(parsed.request.address_type, Socks5AddressType::ipv4);
  ASSERT_TRUE(parsed.request.address.has_value());
  EXPECT_EQ(parsed.request.address->to_string(), "10.1.2.3");
  EXPECT_EQ(parsed.request.port, 8080);
  EXPECT_EQ(parsed.request.length, 10U);
  EXPECT_TRUE(parsed.request.domain.empty());
  expect_every_prefix_needs_more(bytes);
}

TEST(Socks5Request, ConnectToIpv6) {
  const Bytes bytes = {5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
                       0, 0, 0, 0, 0,    0,    0,    0,    1, 0, 22};
  Socks5RequestParse parsed = request(bytes);
  ASSERT_EQ(parsed.status, ParseStatus::complete);
  EXPECT_EQ(parsed.request.address_type, Socks5AddressType::ipv6);
  EXPECT_EQ(parsed.request.address->to_string(), "2001:db8::1");
  EXPECT_EQ(parsed.request.port, 22);
  EXPECT_EQ(parsed.request.length, 22U);
  expect_every_prefix_needs_more(bytes);
}

TEST(Socks5Request, OtherCommandsAreReturned) {
  for (int value : {2, 3, 0, 9, 0xff}) {
    const auto command = static_cast<uint8_t>(value);
    Socks5RequestParse parsed = request({5, command, 0, 1, 0, 0, 0, 0, 0, 0});
    ASSERT_EQ(parsed.status, ParseStatus::complete);
    EXPECT_EQ(parsed.request.command, command);
  }
}

TEST(Socks5Request, UnknownAddressTypeIsNotSupported) {
  for (int value : {0, 2, 5, 0xff}) {
    const auto type = static_cast<uint8_t>(value);
    EXPECT_THAT(expect_refused({5, 1, 0, type, 1, 2, 3, 4, 0, 80},
                               socks5_reply::address_type_not_supported),
                HasSubstr("address type"));
  }
  // Decided on the ATYP byte, before the rest arrives.
  expect_refused({5, 1, 0, 7}, socks5_reply::address_type_not_supported);
}

TEST(Socks5Request, BadDomainsAreInvalid) {
  EXPECT_THAT(expect_refused({5, 1, 0, 3, 0, 0, 80}), HasSubstr("empty domain"));
  EXPECT_THAT(expect_refused({5, 1, 0, 3, 0}), HasSubstr("empty domain"));
  EXPECT_THAT(expect_refused({5, 1, 0, 3, 9, 'a', '.', 'c', 'o', 'm', 0, 'e', 'v', 'l', 0, 80}),
              HasSubstr("byte 0x00"));
  EXPECT_THAT(expect_refused({5, 1, 0, 3, 3, 'a', '\n', 'b', 0, 80}), HasSubstr("byte 0x0a"));
  EXPECT_THAT(expect_refused({5, 1, 0, 3, 2, 'a', 0x7f, 0, 80}), HasSubstr("byte 0x7f"));
}

TEST(Socks5Request, VersionAndReservedByte) {
  EXPECT_THAT(expect_refused({4, 1, 0, 80, 1, 2, 3, 4, 0}), HasSubstr("SOCKS4"));
  EXPECT_THAT(expect_refused({6, 1, 0, 1, 1, 2, 3, 4, 0, 80}), HasSubstr("not SOCKS5"));
  EXPECT_THAT(expect_refused({5, 1, 1, 1, 1, 2, 3, 4, 0, 80}), HasSubstr("RSV"));
  EXPECT_THAT(expect_refused({5, 1, 1}), HasSubstr("RSV"));
}

TEST(Socks5Reply, Bytes) {
  EXPECT_EQ(socks5_reply_bytes(socks5_reply::succeeded),
            (std::array<uint8_t, 10>{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(socks5_reply_bytes(socks5_reply::not_allowed),
            (std::array<uint8_t, 10>{5, 2, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(socks5_reply_bytes(socks5_reply::address_type_not_supported)[1], 8);
  EXPECT_EQ(kSocks5ChooseNoAuth, (std::array<uint8_t, 2>{5, 0}));
  EXPECT_EQ(kSocks5NoAcceptableMethod, (std::array<uint8_t, 2>{5, 0xff}));
  EXPECT_EQ(socks5_reply::command_not_supported, 7);
  EXPECT_EQ(socks5_reply::ttl_expired, 6);
}

}  // namespace
}  // namespace airlock::egress
