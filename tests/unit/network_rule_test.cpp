// "host:port" allow/deny entries: what is accepted is normalised; everything that could mean
// two different things to two different parsers (THREATS.md bypass 2, 6, 10) is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policy/network_rule.h"

namespace airlock::policy {
namespace {

using ::testing::HasSubstr;

// Parses `text`, which must be accepted, and checks the normalised host and the port.
void expect_rule(const std::string& text, const std::string& host, uint16_t port) {
  NetworkRuleParse parsed = parse_network_rule(text);
  ASSERT_TRUE(parsed.rule) << text << " was refused: " << parsed.problem;
  EXPECT_EQ(parsed.rule->host, host) << text;
  EXPECT_EQ(parsed.rule->port, port) << text;
  EXPECT_TRUE(parsed.problem.empty()) << text;
}

// Parses `text`, which must be refused, and returns the explanation.
std::string expect_refused(const std::string& text) {
  NetworkRuleParse parsed = parse_network_rule(text);
  if (parsed.rule) {
    ADD_FAILURE() << text << " was accepted as host '" << parsed.rule->host << "' port "
                  << parsed.rule->port;
    return "";
  }
  EXPECT_FALSE(parsed.problem.empty()) << text;
  EXPECT_EQ(parsed.problem.find('\n'), std::string::npos) << parsed.problem;
  return parsed.problem;
}

TEST(NetworkRule, ParsesHostAndPort) {
  expect_rule("api.anthropic.com:443", "api.anthropic.com", 443);
  expect_rule("db.internal:5432", "db.internal", 5432);
  expect_rule("localhost:5432", "localhost", 5432);
  expect_rule("a-b.c-d.example:1", "a-b.c-d.example", 1);
  expect_rule("example.com:65535", "example.com", 65535);
}

TEST(NetworkRule, NormalisesCaseAndTrailingDot) {
  expect_rule("API.Anthropic.com.:443", "api.anthropic.com", 443);
  expect_rule("EXAMPLE.COM:80", "example.com", 80);
  expect_rule("*.GitHubUserContent.com.:443", "*.githubusercontent.com", 443);
  // Only one trailing dot is the root; two leave an empty label.
  expect_refused("example.com..:443");
  expect_refused(".:443");
}

TEST(NetworkRule, LeadingWildcardLabel) {
  expect_rule("*.example.com:443", "*.example.com", 443);
  expect_rule("*.githubusercontent.com:443", "*.githubusercontent.com", 443);
}

TEST(NetworkRule, WildcardAnywhereElseIsRefused) {
  for (const char* text :
       {"api.*.example.com:443", "*example.com:443", "api*.example.com:443", "example.*:443",
        "*.*.example.com:443", "*:443", "*.:443", "**.example.com:443", ".*.example.com:443"}) {
    EXPECT_THAT(expect_refused(text), HasSubstr("wildcard is only allowed as a leading '*.'"))
        << text;
  }
}

TEST(NetworkRule, Ipv4Literal) {
  expect_rule("192.168.1.10:22", "192.168.1.10", 22);
  expect_rule("127.0.0.1:5432", "127.0.0.1", 5432);
  expect_rule("0.0.0.0:80", "0.0.0.0", 80);
  expect_refused("256.1.1.1:80");
  expect_refused("1.2.3.4.5:80");
}

TEST(NetworkRule, BracketedIpv6Literal) {
  expect_rule("[::1]:5432", "::1", 5432);
  expect_rule("[2001:db8::1]:443", "2001:db8::1", 443);
  expect_rule("[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", 80);
  EXPECT_THAT(expect_refused("[::g]:443"), HasSubstr("is not an IPv6 address"));
  EXPECT_THAT(expect_refused("[example.com]:443"), HasSubstr("is not an IPv6 address"));
  EXPECT_THAT(expect_refused("[127.0.0.1]:443"), HasSubstr("is not an IPv6 address"));
  // A zone index is host-local and means nothing to the supervisor's dialer.
  expect_refused("[fe80::1%lo]:443");
  expect_refused("[fe80::1%25lo]:443");
  // Without brackets the last ':' is taken as the port separator and the rest is no host.
  expect_refused("::1:5432");
  expect_refused("[::1]");
  expect_refused("[::1]:");
}

TEST(NetworkRule, Cidr) {
  expect_rule("10.0.0.0/8:6379", "10.0.0.0/8", 6379);
  expect_rule("192.168.0.0/16:22", "192.168.0.0/16", 22);
  expect_rule("10.1.2.3/32:1", "10.1.2.3/32", 1);
  expect_rule("0.0.0.0/0:443", "0.0.0.0/0", 443);
  expect_refused("10.0.0.0/33:6379");
  expect_refused("10.0.0.0/:6379");
  expect_refused("10.0.0.0/8x:6379");
  expect_refused("10.0.0.0/-1:6379");
  expect_refused("10.0/8:6379");
  expect_refused("example.com/8:443");
}

TEST(NetworkRule, MissingPortIsRefusedWithAnExample) {
  EXPECT_EQ(parse_network_rule("example.com").problem,
            "'example.com' has no port; write HOST:PORT, e.g. api.example.com:443");
  EXPECT_THAT(expect_refused(":443"), HasSubstr("has no port"));
  EXPECT_THAT(expect_refused(""), HasSubstr("has no port"));
  EXPECT_THAT(expect_refused("example.com:"), HasSubstr("no valid port (1-65535)"));
}

TEST(NetworkRule, PortOutOfRangeOrMalformed) {
  for (const char* text : {"example.com:0", "example.com:65536", "example.com:99999999999",
                           "example.com:-1", "example.com:+443", "example.com:443 ",
                           "example.com: 443", "example.com:0x1bb", "example.com:https"}) {
    EXPECT_THAT(expect_refused(text), HasSubstr("no valid port (1-65535)")) << text;
  }
  // The port is what follows the last ':'; what is left is then no host.
  EXPECT_THAT(expect_refused("example.com:443:443"), HasSubstr("is not a host name"));
}

TEST(NetworkRule, AlternateIpv4SpellingsAreRefused) {
  // glibc's getaddrinfo (inet_aton) reads these as 127.0.0.1; inet_pton does not.
  for (const char* text : {"127.1:80", "2130706433:80", "0177.0.0.1:80", "127.0.1:80", "0:80",
                           "127.000.000.001:80", "01.2.3.4:80"}) {
    std::string problem = expect_refused(text);
    EXPECT_THAT(problem, HasSubstr("not a dotted-quad IPv4 address")) << text;
  }
}

// Hexadecimal parts are also read by inet_aton: 0x7f.0.0.1, 0x7f.1 and 0x7f000001 all mean
// 127.0.0.1 to getaddrinfo, so accepting them as "host names" lets a rule name an internal
// address that the internal-range check and the matcher see as a DNS name.
TEST(NetworkRule, HexadecimalIpv4SpellingsAreRefused) {
  for (const char* text :
       {"0x7f.0.0.1:80", "0x7f.1:80", "0x7f000001:80", "0X7F.0.0.1:80", "0xa.0.0.1:6379"}) {
    expect_refused(text);
  }
}

TEST(NetworkRule, NamesThatOnlyLookNumericAreStillNames) {
  expect_rule("1password.com:443", "1password.com", 443);
  expect_rule("123.example:443", "123.example", 443);
  expect_rule("a1.b2.c3:80", "a1.b2.c3", 80);
}

TEST(NetworkRule, NonAsciiHostIsRefusedWithPunycodeHint) {
  for (const char* text : {"bücher.example:443", "BÜCHER.example:443",
                           "example\xe3\x80\x82"
                           "com:443",                  // U+3002 ideographic full stop
                           "\xd0\xb0pple.com:443"}) {  // Cyrillic 'а'
    EXPECT_THAT(expect_refused(text), HasSubstr("punycode (xn--)")) << text;
  }
  expect_rule("xn--bcher-kva.example:443", "xn--bcher-kva.example", 443);
}

TEST(NetworkRule, LabelAndNameLengths) {
  const std::string label63(63, 'a');
  const std::string label64(64, 'a');
  expect_rule(label63 + ".example.com:443", label63 + ".example.com", 443);
  expect_rule("*." + label63 + ".com:443", "*." + label63 + ".com", 443);
  expect_refused(label64 + ".example.com:443");
  expect_refused("*." + label64 + ".com:443");
  expect_refused("www." + label64 + ":443");

  // 253 characters is the longest name DNS can carry.
  std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(name253.size(), 253U);
  expect_rule(name253 + ":443", name253, 443);
  expect_refused(name253 + "b:443");
}

TEST(NetworkRule, CharactersOutsideHostNamesAreRefused) {
  for (const char* text :
       {"allowed.com@evil.com:443", "user:pass@example.com:443", "exa_mple.com:443",
        "exa mple.com:443", "example.com%2e:443", "-example.com:443", "example-.com:443",
        "exam/ple.com:443", "example.com/:443", "http://example.com:443"}) {
    expect_refused(text);
  }
}

}  // namespace
}  // namespace airlock::policy
