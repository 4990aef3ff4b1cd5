// The proxy's decisions without sockets: which names and addresses a policy lets through
// (internal ranges only by IP rule), what the DNS stub remembers, and what the client's own
// bytes must agree with (SNI, Host on every request, absolute-form rewriting).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "egress/client_filter.h"
#include "egress/destination_policy.h"
#include "egress/dns_map.h"
#include "egress/sandbox_network.h"
#include "egress_test_support.h"
#include "policy/network_rule.h"

namespace airlock::egress {
namespace {

using ::testing::HasSubstr;

using testing::ip;
using testing::network;

TEST(DestinationPolicy, NamesNeedARuleOnTheirPortAndDenyWins) {
  DestinationPolicy policy(network({"api.example.test:443", "*.cdn.example.test:443"},
                                   {"blocked.cdn.example.test:443"}));
  EXPECT_TRUE(policy.decide_name("api.example.test", 443).allowed);
  EXPECT_EQ(policy.decide_name("api.example.test", 443).rule, "api.example.test:443");
  EXPECT_FALSE(policy.decide_name("api.example.test", 80).allowed);
  EXPECT_TRUE(policy.decide_name("a.cdn.example.test", 443).allowed);
  EXPECT_FALSE(policy.decide_name("cdn.example.test", 443).allowed);
  Decision blocked = policy.decide_name("blocked.cdn.example.test", 443);
  EXPECT_FALSE(blocked.allowed);
  EXPECT_EQ(blocked.rule, "blocked.cdn.example.test:443");
  EXPECT_TRUE(policy.name_may_resolve("a.cdn.example.test"));
  EXPECT_FALSE(policy.name_may_resolve("evil.example.test"));
}

TEST(DestinationPolicy, IpLiteralsOnlyThroughIpRules) {
  DestinationPolicy policy(network({"api.example.test:443", "10.20.0.7:6379", "192.0.2.0/24:22"}));
  EXPECT_TRUE(policy.decide_literal(ip("10.20.0.7"), 6379).allowed);
  EXPECT_FALSE(policy.decide_literal(ip("10.20.0.7"), 6380).allowed);
  EXPECT_TRUE(policy.decide_literal(ip("192.0.2.99"), 22).allowed);
  Decision public_literal = policy.decide_literal(ip("93.184.216.34"), 443);
  EXPECT_FALSE(public_literal.allowed);
  EXPECT_THAT(public_literal.reason, HasSubstr("IP or CIDR rule"));
}

TEST(DestinationPolicy, ResolvedInternalAddressesAreRefusedUnlessListed) {
  DestinationPolicy policy(network({"*.cdn.example.test:443", "10.1.2.3:443"}));
  FilteredAddresses filtered = policy.filter_resolved(
      {ip("198.51.100.10"), ip("127.0.0.1"), ip("10.1.2.3"), ip("10.1.2.4"), ip("169.254.169.254"),
       ip("::ffff:127.0.0.1"), ip("64:ff9b::a01:203"), ip("2002:a9fe:a9fe::1"), ip("fd00::1")},
      443);
  std::vector<std::string> allowed;
  for (const IpAddress& address : filtered.allowed) allowed.push_back(address.to_string());
  EXPECT_THAT(allowed, ::testing::ElementsAre("198.51.100.10", "10.1.2.3"));
  ASSERT_EQ(filtered.refused.size(), 7U);
  EXPECT_THAT(filtered.refused[0].reason, HasSubstr("loopback"));
  EXPECT_THAT(filtered.refused[3].reason, HasSubstr("127.0.0.1 embedded"));
  // On another port the listed address is not listed.
  EXPECT_TRUE(policy.filter_resolved({ip("10.1.2.3")}, 80).allowed.empty());
  // The DNS stub does not know the port yet: any IP rule's port counts.
  EXPECT_EQ(policy.filter_resolved({ip("10.1.2.3")}, std::nullopt).allowed.size(), 1U);
}

TEST(DestinationPolicy, InternalAllowStillNeverDialsUnspecifiedOrMulticast) {
  DestinationPolicy policy(network({"*.example.test:443"}, {}, false));
  FilteredAddresses filtered =
      policy.filter_resolved({ip("10.0.0.1"), ip("0.0.0.0"), ip("224.0.0.1"), ip("::")}, 443);
  ASSERT_EQ(filtered.allowed.size(), 1U);
  EXPECT_EQ(filtered.allowed[0].to_string(), "10.0.0.1");
}

TEST(DnsMap, RemembersNamesPerAddressNewestFirstAndForgetsTheOldest) {
  DnsMap map(2);
  map.remember(ip("198.51.100.10"), "a.example.test");
  map.remember(ip("198.51.100.10"), "b.example.test");
  map.remember(ip("198.51.100.10"), "a.example.test");
  EXPECT_THAT(map.names_for(ip("198.51.100.10")),
              ::testing::ElementsAre("a.example.test", "b.example.test"));
  map.remember(ip("198.51.100.11"), "c.example.test");
  map.remember(ip("2001:db8::1"), "d.example.test");
  EXPECT_TRUE(map.names_for(ip("198.51.100.10")).empty());
  EXPECT_THAT(map.names_for(ip("2001:db8::1")), ::testing::ElementsAre("d.example.test"));
  EXPECT_TRUE(map.names_for(ip("198.51.100.12")).empty());
}

TEST(DnsMap, ASizeOfZeroStillKeepsTheNewestAddress) {
  DnsMap map(0);
  map.remember(ip("198.51.100.10"), "a.example.test");
  map.remember(ip("198.51.100.11"), "b.example.test");
  EXPECT_TRUE(map.names_for(ip("198.51.100.10")).empty());
  EXPECT_THAT(map.names_for(ip("198.51.100.11")), ::testing::ElementsAre("b.example.test"));
}

// A TLS 1.3 ClientHello's first bytes with SNI `name`, enough for the parser.
std::string client_hello(const std::string& name) {
  std::string sni_entry = std::string("\x00", 1) + static_cast<char>(name.size() >> 8) +
                          static_cast<char>(name.size()) + name;
  std::string sni_list = std::string(1, static_cast<char>(sni_entry.size() >> 8)) +
                         static_cast<char>(sni_entry.size()) + sni_entry;
  std::string extension = std::string("\x00\x00", 2) + static_cast<char>(sni_list.size() >> 8) +
                          static_cast<char>(sni_list.size()) + sni_list;
  std::string extensions = std::string(1, static_cast<char>(extension.size() >> 8)) +
                           static_cast<char>(extension.size()) + extension;
  std::string body = std::string("\x03\x03", 2) + std::string(32, 'r') + std::string("\x00", 1) +
                     std::string("\x00\x02\x13\x01", 4) + std::string("\x01\x00", 2) + extensions;
  std::string handshake = std::string("\x01", 1) + static_cast<char>(0) +
                          static_cast<char>(body.size() >> 8) + static_cast<char>(body.size()) +
                          body;
  return std::string("\x16\x03\x01", 3) + static_cast<char>(handshake.size() >> 8) +
         static_cast<char>(handshake.size()) + handshake;
}

TEST(DestinationFilter, TlsSniMustNameTheAllowedDestination) {
  std::string out;
  DestinationFilter good({"api.example.test"}, 443, DestinationFilter::Kind::first_bytes);
  EXPECT_EQ(good.feed(client_hello("API.example.test."), out), ClientFilter::Verdict::pass_through);
  EXPECT_EQ(good.first_bytes().protocol, "tls");
  EXPECT_EQ(good.first_bytes().sni, "api.example.test");
  EXPECT_EQ(out, client_hello("API.example.test."));

  DestinationFilter fronted({"api.example.test"}, 443, DestinationFilter::Kind::first_bytes);
  out.clear();
  EXPECT_EQ(fronted.feed(client_hello("evil.example.test"), out), ClientFilter::Verdict::deny);
  EXPECT_THAT(fronted.denial(), HasSubstr("evil.example.test"));
  EXPECT_TRUE(out.empty()) << "bytes of a fronted hello were forwarded";
}

TEST(DestinationFilter, HelloSplitAcrossReadsIsHeldUntilComplete) {
  const std::string hello = client_hello("api.example.test");
  DestinationFilter filter({"api.example.test"}, 443, DestinationFilter::Kind::first_bytes);
  std::string out;
  EXPECT_EQ(filter.feed(hello.substr(0, 7), out), ClientFilter::Verdict::forward);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(filter.feed(hello.substr(7), out), ClientFilter::Verdict::pass_through);
  EXPECT_EQ(out, hello);
}

TEST(DestinationFilter, EveryKeepAliveRequestNeedsTheSameHost) {
  DestinationFilter filter({"api.example.test"}, 80, DestinationFilter::Kind::first_bytes);
  std::string out;
  EXPECT_EQ(filter.feed("GET / HTTP/1.1\r\nHost: api.example.test\r\n\r\n", out),
            ClientFilter::Verdict::forward);
  EXPECT_EQ(filter.first_bytes().protocol, "http");
  out.clear();
  EXPECT_EQ(filter.feed("GET / HTTP/1.1\r\nHost: evil.example.test\r\n\r\n", out),
            ClientFilter::Verdict::deny);
  EXPECT_TRUE(out.empty()) << "the request for another host was forwarded";
  EXPECT_THAT(filter.denial(), HasSubstr("evil.example.test"));
}

TEST(DestinationFilter, ExplicitHostPortMustBeTheDestinationPort) {
  DestinationFilter filter({"api.example.test"}, 80, DestinationFilter::Kind::first_bytes);
  std::string out;
  EXPECT_EQ(filter.feed("GET / HTTP/1.1\r\nHost: api.example.test:8080\r\n\r\n", out),
            ClientFilter::Verdict::deny);
}

TEST(DestinationFilter, OpaqueProtocolsPassAndNearMissHttpDoesNot) {
  DestinationFilter opaque({"db.example.test"}, 5432, DestinationFilter::Kind::first_bytes);
  std::string out;
  const std::string startup("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);  // postgres SSLRequest
  EXPECT_EQ(opaque.feed(startup, out), ClientFilter::Verdict::pass_through);
  EXPECT_EQ(opaque.first_bytes().protocol, "opaque");
  DestinationFilter bare_lf({"api.example.test"}, 80, DestinationFilter::Kind::first_bytes);
  out.clear();
  EXPECT_EQ(bare_lf.feed("GET / HTTP/1.1\nHost: evil.example.test\n\n", out),
            ClientFilter::Verdict::deny);
}

TEST(DestinationFilter, ForwardProxyRewritesEveryHeadForTheOrigin) {
  DestinationFilter filter({"api.example.test"}, 80, DestinationFilter::Kind::forward_proxy);
  std::string out;
  const std::string first =
      "POST http://api.example.test/upload HTTP/1.1\r\nHost: api.example.test\r\n"
      "Proxy-Authorization: Basic c2VjcmV0\r\nContent-Length: 5\r\n\r\nhello";
  EXPECT_EQ(filter.feed(first.substr(0, 30), out), ClientFilter::Verdict::forward);
  EXPECT_TRUE(out.empty()) << "an unfinished head was forwarded";
  EXPECT_EQ(filter.feed(first.substr(30), out), ClientFilter::Verdict::forward);
  EXPECT_THAT(out, ::testing::StartsWith("POST /upload HTTP/1.1\r\n"));
  EXPECT_THAT(out, ::testing::EndsWith("\r\n\r\nhello"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("Proxy-Authorization")));
  out.clear();
  EXPECT_EQ(filter.feed(
                "GET http://other.example.test/ HTTP/1.1\r\nHost: other.example.test\r\n\r\n", out),
            ClientFilter::Verdict::deny);
}

TEST(DestinationFilter, AnEmptyLineOrALowerCaseMethodCannotHideARequest) {
  // RFC 9112 section 2.2: servers skip empty lines before a request line; node, nginx and Go
  // do. Opaque pass-through would let such a request for another host reach the origin.
  for (const char* bytes : {"\r\nGET /x HTTP/1.1\r\nHost: other.example.test\r\n\r\n",
                            "\nGET /x HTTP/1.1\r\nHost: other.example.test\r\n\r\n",
                            "get /x HTTP/1.1\r\nHost: other.example.test\r\n\r\n"}) {
    DestinationFilter filter({"api.example.test"}, 80, DestinationFilter::Kind::first_bytes);
    std::string out;
    EXPECT_EQ(filter.feed(bytes, out), ClientFilter::Verdict::deny) << bytes;
    EXPECT_TRUE(out.empty()) << bytes;
  }
  // A short client-first message is not held back waiting to look like HTTP.
  DestinationFilter ping({"echo.example.test"}, 7, DestinationFilter::Kind::first_bytes);
  std::string echoed;
  EXPECT_EQ(ping.feed("ping", echoed), ClientFilter::Verdict::pass_through);
  EXPECT_EQ(echoed, "ping");
  // An opaque protocol whose first line merely starts with a token is still opaque.
  DestinationFilter ssh({"git.example.test"}, 22, DestinationFilter::Kind::first_bytes);
  std::string out;
  EXPECT_EQ(ssh.feed("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", out),
            ClientFilter::Verdict::pass_through);
}

// A hook that rewrites one header and refuses requests for /forbidden, like the credential hook.
class MarkingHook final : public RequestHeadHook {
 public:
  std::optional<Refusal> on_head(HttpRequestHead& head) override {
    ++heads;
    if (head.target == "/forbidden") return Refusal{403, "refused by the hook"};
    for (HttpHeader& header : head.headers) {
      if (equals_ignoring_case(header.name, "x-api-key")) header.value = "REAL";
    }
    return std::nullopt;
  }
  int heads = 0;
};

TEST(DestinationFilter, InterceptedHeadsGoThroughTheHookAndAreAnsweredWhenRefused) {
  MarkingHook hook;
  DestinationFilter filter({"api.example.test"}, 443, DestinationFilter::Kind::intercepted, &hook);
  std::string out;
  const std::string request =
      "POST /v1 HTTP/1.1\r\nHost: api.example.test\r\nx-api-key: PLACE\r\n"
      "Content-Length: 3\r\n\r\nabc";
  for (char c : request) {  // one byte at a time: the head leaves only once whole
    ASSERT_EQ(filter.feed(std::string_view(&c, 1), out), ClientFilter::Verdict::forward);
  }
  EXPECT_EQ(out,
            "POST /v1 HTTP/1.1\r\nHost: api.example.test\r\nx-api-key: REAL\r\n"
            "Content-Length: 3\r\n\r\nabc");
  out.clear();
  EXPECT_EQ(filter.feed("GET /forbidden HTTP/1.1\r\nHost: api.example.test\r\n\r\n", out),
            ClientFilter::Verdict::deny);
  EXPECT_TRUE(out.empty());
  EXPECT_THAT(filter.denial_answer(), ::testing::StartsWith("HTTP/1.1 403 Forbidden\r\n"));
  EXPECT_THAT(filter.denial_answer(), HasSubstr("X-Airlock-Reason: refused by the hook"));
  EXPECT_EQ(hook.heads, 2);
}

TEST(DestinationFilter, InterceptedUpgradeKeepsTheBytesAfterItForTheRelayToHold) {
  MarkingHook hook;
  DestinationFilter filter({"api.example.test"}, 443, DestinationFilter::Kind::intercepted, &hook);
  std::string out;
  const std::string upgrade =
      "GET /v1/responses HTTP/1.1\r\nHost: api.example.test\r\nConnection: Upgrade\r\n"
      "Upgrade: websocket\r\n\r\n";
  // A request smuggled behind the upgrade is not HTTP the filter reads: the relay holds it until
  // the origin answers 101, and drops the connection otherwise.
  const std::string behind = "GET / HTTP/1.1\r\nHost: other.example.test\r\n\r\n";
  EXPECT_EQ(filter.feed(upgrade + behind, out), ClientFilter::Verdict::pass_through);
  EXPECT_TRUE(filter.upgraded());
  EXPECT_THAT(out, ::testing::EndsWith("Upgrade: websocket\r\n\r\n"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("other.example.test")));
  EXPECT_EQ(filter.take_after_upgrade(), behind);
  // Without interception (plain HTTP) nothing changes: the bytes after it are HTTP to check.
  DestinationFilter plain({"api.example.test"}, 80, DestinationFilter::Kind::first_bytes);
  std::string plain_out;
  EXPECT_EQ(plain.feed(upgrade + behind, plain_out), ClientFilter::Verdict::deny);
}

TEST(CaptureRuleset, RedirectsTcpAndDnsAndDropsTheRest) {
  std::string ruleset = capture_ruleset({5432, 6379});
  EXPECT_THAT(ruleset, HasSubstr("th dport 53 redirect to :53"));
  EXPECT_THAT(ruleset, HasSubstr("ip daddr 127.0.0.1 tcp dport { 5432, 6379 } redirect to :15001"));
  EXPECT_THAT(ruleset, HasSubstr("meta l4proto tcp redirect to :15001"));
  EXPECT_THAT(ruleset, HasSubstr("type filter hook output priority 0; policy drop;"));
  EXPECT_THAT(capture_ruleset({}), ::testing::Not(HasSubstr("tcp dport {")));
}

}  // namespace
}  // namespace airlock::egress
