// The allowlist decision: deny wins, "*.x" never matches x or names that merely end in x's
// characters (THREATS.md bypass 10), and a name rule never lets an address through.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "egress/host_matcher.h"
#include "policy/network_rule.h"

namespace airlock::egress {
namespace {

// Rules through the policy's own parser, so the matcher sees exactly what a policy gives it.
std::vector<policy::NetworkRule> rules(const std::vector<std::string>& texts) {
  std::vector<policy::NetworkRule> parsed;
  for (const std::string& text : texts) {
    policy::NetworkRuleParse rule = policy::parse_network_rule(text);
    EXPECT_TRUE(rule.rule) << text << ": " << rule.problem;
    if (rule.rule) parsed.push_back(*rule.rule);
  }
  return parsed;
}

HostMatcher matcher(const std::vector<std::string>& allow,
                    const std::vector<std::string>& deny = {}) {
  return HostMatcher(rules(allow), rules(deny));
}

IpAddress address(const std::string& text) {
  std::optional<IpAddress> parsed = IpAddress::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(IpAddress{});
}

TEST(HostMatcher, ExactNameAndPort) {
  HostMatcher m = matcher({"api.example.com:443"});
  RuleMatch match = m.match_name("api.example.com", 443);
  EXPECT_TRUE(match.allowed);
  EXPECT_STREQ(match.reason, "allowed");
  EXPECT_EQ(match.rule_text(), "api.example.com:443");
  ASSERT_NE(match.rule, nullptr);
  EXPECT_EQ(match.rule->host, "api.example.com");

  for (auto [name, port] :
       std::vector<std::pair<std::string, uint16_t>>{{"api.example.com", 80},
                                                     {"api.example.com", 444},
                                                     {"example.com", 443},
                                                     {"x.api.example.com", 443},
                                                     {"api.example.co", 443},
                                                     {"api.example.com.evil.net", 443},
                                                     {"", 443}}) {
    RuleMatch miss = m.match_name(name, port);
    EXPECT_FALSE(miss.allowed) << name << ":" << port;
    EXPECT_EQ(miss.rule, nullptr) << name << ":" << port;
    EXPECT_STREQ(miss.reason, "no rule for this host and port");
    EXPECT_EQ(miss.rule_text(), "");
  }
}

TEST(HostMatcher, WildcardMatchesOneOrMoreLabelsBelow) {
  HostMatcher m = matcher({"*.example.com:443"});
  for (const char* name : {"a.example.com", "api.example.com", "a.b.c.example.com"}) {
    RuleMatch match = m.match_name(name, 443);
    EXPECT_TRUE(match.allowed) << name;
    EXPECT_EQ(match.rule_text(), "*.example.com:443") << name;
  }
  EXPECT_FALSE(m.match_name("a.example.com", 80).allowed);
}

TEST(HostMatcher, WildcardNeverMatchesItsOwnSuffixOrLookalikes) {
  HostMatcher m = matcher({"*.example.com:443"});
  for (const char* name : {"example.com", "evilexample.com", "example.com.evil.net",
                           "a.example.com.evil.net", "example.co", "com", "xexample.com",
                           "a.evilexample.com", "a-example.com", "aexample.com"}) {
    EXPECT_FALSE(m.match_name(name, 443).allowed) << name;
  }
}

TEST(HostMatcher, ExactAndWildcardRulesForTheSameSuffixAreIndependent) {
  HostMatcher m = matcher({"example.com:80", "*.example.com:443"});
  EXPECT_TRUE(m.match_name("example.com", 80).allowed);
  EXPECT_FALSE(m.match_name("example.com", 443).allowed);
  EXPECT_TRUE(m.match_name("www.example.com", 443).allowed);
  EXPECT_FALSE(m.match_name("www.example.com", 80).allowed);
}

TEST(HostMatcher, DenyWinsOverAllow) {
  HostMatcher m = matcher({"*.example.com:443", "secret.example.com:443"},
                          {"secret.example.com:443", "*.internal.example.com:443"});
  RuleMatch denied = m.match_name("secret.example.com", 443);
  EXPECT_FALSE(denied.allowed);
  EXPECT_STREQ(denied.reason, "denied by rule");
  EXPECT_EQ(denied.rule_text(), "secret.example.com:443");

  // A wildcard deny beats a more specific exact allow.
  HostMatcher n = matcher({"db.internal.example.com:443"}, {"*.example.com:443"});
  RuleMatch wildcard_denied = n.match_name("db.internal.example.com", 443);
  EXPECT_FALSE(wildcard_denied.allowed);
  EXPECT_EQ(wildcard_denied.rule_text(), "*.example.com:443");

  EXPECT_FALSE(m.match_name("db.internal.example.com", 443).allowed);
  EXPECT_EQ(m.match_name("db.internal.example.com", 443).rule_text(), "*.internal.example.com:443");
  EXPECT_TRUE(m.match_name("www.example.com", 443).allowed);
  // Deny on one port leaves the others alone.
  HostMatcher p = matcher({"*.example.com:443", "*.example.com:80"}, {"*.example.com:80"});
  EXPECT_TRUE(p.match_name("a.example.com", 443).allowed);
  EXPECT_FALSE(p.match_name("a.example.com", 80).allowed);
}

TEST(HostMatcher, TheMostSpecificRuleIsReported) {
  HostMatcher m = matcher({"*.example.com:443", "*.api.example.com:443", "v1.api.example.com:443"});
  EXPECT_EQ(m.match_name("v1.api.example.com", 443).rule_text(), "v1.api.example.com:443");
  EXPECT_EQ(m.match_name("v2.api.example.com", 443).rule_text(), "*.api.example.com:443");
  EXPECT_EQ(m.match_name("www.example.com", 443).rule_text(), "*.example.com:443");
}

TEST(HostMatcher, ManyPortsOfOneHost) {
  std::vector<std::string> allow;
  for (int port = 1000; port < 1100; port += 2)
    allow.push_back("many.example:" + std::to_string(port));
  HostMatcher m = matcher(allow);
  EXPECT_EQ(m.rule_count(), 50U);
  for (int port = 998; port < 1102; ++port) {
    bool expected = port >= 1000 && port < 1100 && port % 2 == 0;
    EXPECT_EQ(m.match_name("many.example", static_cast<uint16_t>(port)).allowed, expected) << port;
  }
}

TEST(HostMatcher, DuplicateRulesReportTheFirstWritten) {
  std::vector<policy::NetworkRule> allow = rules({"a.example:443", "a.example:443"});
  allow[0].where.line = 3;
  allow[1].where.line = 7;
  HostMatcher m(allow, {});
  RuleMatch match = m.match_name("a.example", 443);
  ASSERT_NE(match.rule, nullptr);
  EXPECT_EQ(match.rule->where.line, 3);
  EXPECT_EQ(m.rule_count(), 2U);
}

TEST(HostMatcher, NameRulesNeverAllowAddresses) {
  HostMatcher m = matcher({"example.com:443", "*.example.com:443"});
  RuleMatch match = m.match_address(address("93.184.216.34"), 443);
  EXPECT_FALSE(match.allowed);
  EXPECT_STREQ(match.reason, "no rule for this address and port");
  // And an address rule is no name rule: "10.0.0.1" as a name is never allowed by it.
  HostMatcher n = matcher({"10.0.0.1:443"});
  EXPECT_FALSE(n.match_name("10.0.0.1", 443).allowed);
  EXPECT_TRUE(n.match_address(address("10.0.0.1"), 443).allowed);
}

TEST(HostMatcher, Ipv4LiteralsAndCidrs) {
  HostMatcher m =
      matcher({"192.168.1.10:22", "10.0.0.0/8:6379", "0.0.0.0/0:8443"}, {"10.66.0.0/16:6379"});
  EXPECT_TRUE(m.match_address(address("192.168.1.10"), 22).allowed);
  EXPECT_EQ(m.match_address(address("192.168.1.10"), 22).rule_text(), "192.168.1.10:22");
  EXPECT_FALSE(m.match_address(address("192.168.1.11"), 22).allowed);
  EXPECT_FALSE(m.match_address(address("192.168.1.10"), 23).allowed);

  EXPECT_TRUE(m.match_address(address("10.0.0.0"), 6379).allowed);
  EXPECT_TRUE(m.match_address(address("10.255.255.255"), 6379).allowed);
  EXPECT_EQ(m.match_address(address("10.1.2.3"), 6379).rule_text(), "10.0.0.0/8:6379");
  EXPECT_FALSE(m.match_address(address("11.0.0.0"), 6379).allowed);
  EXPECT_FALSE(m.match_address(address("9.255.255.255"), 6379).allowed);

  RuleMatch denied = m.match_address(address("10.66.1.1"), 6379);
  EXPECT_FALSE(denied.allowed);
  EXPECT_STREQ(denied.reason, "denied by rule");
  EXPECT_EQ(denied.rule_text(), "10.66.0.0/16:6379");
  EXPECT_TRUE(m.match_address(address("10.67.0.0"), 6379).allowed);

  EXPECT_TRUE(m.match_address(address("8.8.8.8"), 8443).allowed);
  EXPECT_FALSE(m.match_address(address("8.8.8.8"), 443).allowed);
}

TEST(HostMatcher, CidrHostBitsAreMasked) {
  HostMatcher m = matcher({"10.1.2.3/8:80"});
  EXPECT_TRUE(m.match_address(address("10.200.0.1"), 80).allowed);
  EXPECT_FALSE(m.match_address(address("11.1.2.3"), 80).allowed);
}

TEST(HostMatcher, OddPrefixLengths) {
  HostMatcher m = matcher({"172.16.0.0/12:5432", "192.0.2.128/25:80", "2001:db8::/33:443"});
  EXPECT_TRUE(m.match_address(address("172.31.255.255"), 5432).allowed);
  EXPECT_FALSE(m.match_address(address("172.32.0.0"), 5432).allowed);
  EXPECT_FALSE(m.match_address(address("172.15.255.255"), 5432).allowed);
  EXPECT_TRUE(m.match_address(address("192.0.2.128"), 80).allowed);
  EXPECT_FALSE(m.match_address(address("192.0.2.127"), 80).allowed);
  EXPECT_TRUE(m.match_address(address("2001:db8:7fff::1"), 443).allowed);
  EXPECT_FALSE(m.match_address(address("2001:db8:8000::1"), 443).allowed);
}

// Prefixes that end in the second half of an IPv6 address, on both sides of each boundary.
TEST(HostMatcher, LongIpv6Prefixes) {
  HostMatcher m = matcher({"2001:db8:1:2::/64:1", "2001:db8:0:1::/65:2", "2001:db8::100/120:3",
                           "2001:db8::/127:4", "2001:db8::5/128:5"});
  EXPECT_TRUE(m.match_address(address("2001:db8:1:2::"), 1).allowed);
  EXPECT_TRUE(m.match_address(address("2001:db8:1:2:ffff:ffff:ffff:ffff"), 1).allowed);
  EXPECT_FALSE(m.match_address(address("2001:db8:1:3::"), 1).allowed);
  EXPECT_FALSE(m.match_address(address("2001:db8:1:1:ffff:ffff:ffff:ffff"), 1).allowed);
  EXPECT_TRUE(m.match_address(address("2001:db8:0:1:7fff:ffff:ffff:ffff"), 2).allowed);
  EXPECT_FALSE(m.match_address(address("2001:db8:0:1:8000::"), 2).allowed);
  EXPECT_TRUE(m.match_address(address("2001:db8::100"), 3).allowed);
  EXPECT_TRUE(m.match_address(address("2001:db8::1ff"), 3).allowed);
  EXPECT_FALSE(m.match_address(address("2001:db8::ff"), 3).allowed);
  EXPECT_FALSE(m.match_address(address("2001:db8::200"), 3).allowed);
  EXPECT_TRUE(m.match_address(address("2001:db8::1"), 4).allowed);
  EXPECT_FALSE(m.match_address(address("2001:db8::2"), 4).allowed);
  EXPECT_TRUE(m.match_address(address("2001:db8::5"), 5).allowed);
  EXPECT_FALSE(m.match_address(address("2001:db8::4"), 5).allowed);
}

TEST(HostMatcher, Ipv6LiteralsAndCidrs) {
  HostMatcher m =
      matcher({"[::1]:5432", "2001:db8::/32:443", "[2001:DB8::5]:22"}, {"2001:db8:bad::/48:443"});
  RuleMatch loopback = m.match_address(address("::1"), 5432);
  EXPECT_TRUE(loopback.allowed);
  EXPECT_EQ(loopback.rule_text(), "[::1]:5432");
  EXPECT_TRUE(m.match_address(address("2001:db8::5"), 22).allowed);  // rule text in upper case
  EXPECT_EQ(m.match_address(address("2001:db8::5"), 22).rule_text(), "[2001:DB8::5]:22");
  EXPECT_TRUE(m.match_address(address("2001:db8:ffff::1"), 443).allowed);
  EXPECT_EQ(m.match_address(address("2001:db8:1::1"), 443).rule_text(), "2001:db8::/32:443");
  EXPECT_FALSE(m.match_address(address("2001:db9::1"), 443).allowed);
  EXPECT_FALSE(m.match_address(address("2001:db8:bad::1"), 443).allowed);
  EXPECT_EQ(m.match_address(address("2001:db8:bad::1"), 443).rule_text(), "2001:db8:bad::/48:443");
  // An IPv6 rule says nothing about IPv4 and the other way round.
  EXPECT_FALSE(m.match_address(address("127.0.0.1"), 5432).allowed);
}

TEST(HostMatcher, V4MappedAddressesAreTheirIpv4Address) {
  HostMatcher m = matcher({"10.0.0.0/8:443", "::/0:80"}, {"10.9.0.0/16:443"});
  EXPECT_TRUE(m.match_address(address("::ffff:10.1.1.1"), 443).allowed);
  EXPECT_EQ(m.match_address(address("::ffff:10.1.1.1"), 443).rule_text(), "10.0.0.0/8:443");
  EXPECT_FALSE(m.match_address(address("::ffff:10.9.1.1"), 443).allowed);
  EXPECT_EQ(m.match_address(address("::ffff:10.9.1.1"), 443).rule_text(), "10.9.0.0/16:443");
  // ::/0 is every IPv6 address, not every IPv4 address spelled as one.
  EXPECT_TRUE(m.match_address(address("2001:db8::1"), 80).allowed);
  EXPECT_FALSE(m.match_address(address("::ffff:1.2.3.4"), 80).allowed);
  // NAT64 is real IPv6: it is not unwrapped (classify_address judges what it embeds).
  EXPECT_FALSE(m.match_address(address("64:ff9b::a01:101"), 443).allowed);
}

TEST(HostMatcher, V4MappedRulesAreIpv4Rules) {
  HostMatcher m = matcher({"[::ffff:127.0.0.1]:80"}, {"::ffff:10.0.0.0/104:443"});
  EXPECT_TRUE(m.match_address(address("127.0.0.1"), 80).allowed);
  EXPECT_TRUE(m.match_address(address("::ffff:127.0.0.1"), 80).allowed);
  EXPECT_EQ(m.match_address(address("127.0.0.1"), 80).rule_text(), "[::ffff:127.0.0.1]:80");
  HostMatcher n = matcher({"0.0.0.0/0:443"}, {"::ffff:10.0.0.0/104:443"});
  EXPECT_FALSE(n.match_address(address("10.2.3.4"), 443).allowed);
  EXPECT_TRUE(n.match_address(address("11.2.3.4"), 443).allowed);
}

TEST(HostMatcher, NameMayBeAllowedOnSomePort) {
  HostMatcher m = matcher(
      {"api.example.com:443", "*.cdn.example:443", "*.cdn.example:80", "both.example:443",
       "10.0.0.1:53"},
      {"a.cdn.example:443", "a.cdn.example:80", "both.example:443", "*.evil.cdn.example:443"});
  EXPECT_TRUE(m.name_may_be_allowed("api.example.com"));
  EXPECT_TRUE(m.name_may_be_allowed("b.cdn.example"));
  EXPECT_FALSE(m.name_may_be_allowed("a.cdn.example"));  // denied on every port it is allowed on
  EXPECT_FALSE(m.name_may_be_allowed("both.example"));
  EXPECT_TRUE(m.name_may_be_allowed("x.evil.cdn.example"));  // port 80 is still allowed
  EXPECT_FALSE(m.name_may_be_allowed("cdn.example"));
  EXPECT_FALSE(m.name_may_be_allowed("secret.attacker.example"));
  EXPECT_FALSE(m.name_may_be_allowed("example.com"));
  EXPECT_FALSE(m.name_may_be_allowed("10.0.0.1"));
  EXPECT_FALSE(m.name_may_be_allowed(""));
}

TEST(HostMatcher, NoRulesMatchNothing) {
  HostMatcher m = matcher({});
  EXPECT_EQ(m.rule_count(), 0U);
  EXPECT_FALSE(m.match_name("example.com", 443).allowed);
  EXPECT_FALSE(m.match_address(address("1.2.3.4"), 443).allowed);
  EXPECT_FALSE(m.match_address(address("::1"), 443).allowed);
  EXPECT_FALSE(m.name_may_be_allowed("example.com"));
}

TEST(HostMatcher, RulePointersSurviveAMove) {
  HostMatcher m = matcher({"api.example.com:443"});
  const policy::NetworkRule* before = m.match_name("api.example.com", 443).rule;
  HostMatcher moved = std::move(m);
  RuleMatch after = moved.match_name("api.example.com", 443);
  EXPECT_EQ(after.rule, before);
  EXPECT_EQ(after.rule_text(), "api.example.com:443");
}

TEST(HostMatcher, LongNamesWithManyLabels) {
  HostMatcher m = matcher({"*.a:443"}, {"*.b.a:443"});
  std::string name = "x";
  for (int i = 0; i < 120; ++i) name += ".x";
  EXPECT_TRUE(m.match_name(name + ".a", 443).allowed);
  EXPECT_FALSE(m.match_name(name + ".b.a", 443).allowed);
  EXPECT_FALSE(m.match_name(name, 443).allowed);
}

// A matcher that is obviously right and slow: every rule compared with every query.
struct NaiveMatcher {
  std::vector<policy::NetworkRule> allow;
  std::vector<policy::NetworkRule> deny;

  static bool name_matches(const std::string& host, const std::string& name) {
    if (host.rfind("*.", 0) != 0) return host == name;
    std::string dot_suffix = host.substr(1);  // ".example.com"
    return name.size() > dot_suffix.size() &&
           name.compare(name.size() - dot_suffix.size(), dot_suffix.size(), dot_suffix) == 0;
  }
  static bool any(const std::vector<policy::NetworkRule>& rules, const std::string& name,
                  uint16_t port) {
    for (const policy::NetworkRule& rule : rules) {
      if (rule.port == port && name_matches(rule.host, name)) return true;
    }
    return false;
  }
  bool allowed(const std::string& name, uint16_t port) const {
    return !any(deny, name, port) && any(allow, name, port);
  }
  bool may_be_allowed(const std::string& name) const {
    for (const policy::NetworkRule& rule : allow) {
      if (allowed(name, rule.port)) return true;
    }
    return false;
  }
};

// Rules and names from a tiny alphabet, so that wildcards, exact names, suffixes, ports and
// deny rules overlap all the time.
TEST(HostMatcher, AgreesWithANaiveMatcher) {
  std::mt19937 random(20240601);
  const std::vector<std::string> labels = {"a", "b", "ab", "ba", "com", "example"};
  auto random_name = [&](int max_labels) {
    std::string name = labels[random() % labels.size()];
    for (int n = static_cast<int>(random() % max_labels); n > 0; --n) {
      name = labels[random() % labels.size()] + "." + name;
    }
    return name;
  };
  auto random_port = [&] { return static_cast<uint16_t>(1 + random() % 4); };
  for (int round = 0; round < 20; ++round) {
    NaiveMatcher naive;
    for (int i = 0; i < 40; ++i) {
      std::string host = (random() % 2 == 0 ? "*." : "") + random_name(3);
      (random() % 4 == 0 ? naive.deny : naive.allow).push_back({host, random_port(), {}});
    }
    HostMatcher m(naive.allow, naive.deny);
    for (int i = 0; i < 400; ++i) {
      std::string name = random_name(4);
      uint16_t port = random_port();
      RuleMatch match = m.match_name(name, port);
      ASSERT_EQ(match.allowed, naive.allowed(name, port)) << name << ":" << port;
      bool any_rule =
          NaiveMatcher::any(naive.allow, name, port) || NaiveMatcher::any(naive.deny, name, port);
      ASSERT_EQ(match.rule != nullptr, any_rule) << name << ":" << port;
      if (match.rule != nullptr) {
        EXPECT_TRUE(NaiveMatcher::name_matches(match.rule->host, name)) << match.rule_text();
        EXPECT_EQ(match.rule->port, port);
      }
      ASSERT_EQ(m.name_may_be_allowed(name), naive.may_be_allowed(name)) << name;
    }
  }
}

TEST(HostMatcher, AddressesAgreeWithANaiveMatcher) {
  std::mt19937 random(7);
  auto random_v4 = [&] {
    // Few distinct high bits, so that networks of different lengths nest.
    return std::to_string(10 + random() % 2) + "." + std::to_string(random() % 4) + "." +
           std::to_string(random() % 4) + "." + std::to_string(random() % 256);
  };
  auto in_network = [](const IpAddress& a, const std::string& rule) {
    size_t slash = rule.find('/');
    IpAddress network = *IpAddress::parse(rule.substr(0, slash));
    auto bits =
        static_cast<unsigned>(slash == std::string::npos ? 32 : std::stoul(rule.substr(slash + 1)));
    uint32_t x = 0;
    uint32_t y = 0;
    for (size_t i = 0; i < 4; ++i) {
      x = x << 8 | a.bytes[i];
      y = y << 8 | network.bytes[i];
    }
    return bits == 0 || (x ^ y) >> (32 - bits) == 0;
  };
  for (int round = 0; round < 20; ++round) {
    std::vector<policy::NetworkRule> allow;
    std::vector<policy::NetworkRule> deny;
    for (int i = 0; i < 30; ++i) {
      std::string host = random_v4();
      if (random() % 4 != 0) host += "/" + std::to_string(random() % 33);
      (random() % 4 == 0 ? deny : allow)
          .push_back({host, static_cast<uint16_t>(1 + random() % 2), {}});
    }
    HostMatcher m(allow, deny);
    for (int i = 0; i < 400; ++i) {
      IpAddress a = address(random_v4());
      auto port = static_cast<uint16_t>(1 + random() % 2);
      auto any = [&](const std::vector<policy::NetworkRule>& rules) {
        return std::any_of(rules.begin(), rules.end(), [&](const policy::NetworkRule& rule) {
          return rule.port == port && in_network(a, rule.host);
        });
      };
      bool expected = !any(deny) && any(allow);
      ASSERT_EQ(m.match_address(a, port).allowed, expected) << a.to_string() << ":" << port;
      IpAddress mapped = address("::ffff:" + a.to_string());
      ASSERT_EQ(m.match_address(mapped, port).allowed, expected) << mapped.to_string();
    }
  }
}

}  // namespace
}  // namespace airlock::egress
