// observe's decisions without sockets: what --forward lets through and what it still refuses,
// and the synthetic addresses the DNS stub hands out in deny mode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "egress/destination_policy.h"
#include "egress/dropped_datagrams.h"
#include "egress/sandbox_network.h"
#include "egress/synthetic_addresses.h"
#include "egress_test_support.h"
#include "policy/network_rule.h"

namespace airlock::egress {
namespace {

using ::testing::HasSubstr;

using testing::ip;
using testing::network;

TEST(ObserveForward, AllowsWhatNoRuleCoversButKeepsDenyRulesLocalhostAndInternal) {
  DestinationPolicy policy(network({"api.example.test:443"}, {"blocked.example.test:443"}),
                           ObserveMode::forward);
  Decision unknown = policy.decide_name("registry.example.test", 443);
  EXPECT_TRUE(unknown.allowed);
  EXPECT_THAT(unknown.reason, HasSubstr("observe --forward"));
  EXPECT_TRUE(policy.name_may_resolve("anything.example.test"));
  EXPECT_FALSE(policy.decide_name("blocked.example.test", 443).allowed);  // the user's deny rule
  EXPECT_FALSE(policy.decide_name("localhost", 5432).allowed);            // the host's loopback
  EXPECT_TRUE(policy.decide_literal(ip("203.0.113.7"), 443).allowed);
  Decision internal = policy.decide_literal(ip("10.1.2.3"), 5432);
  EXPECT_FALSE(internal.allowed);
  EXPECT_THAT(internal.reason, HasSubstr("never opens an internal address"));
  // A name that resolves to an internal address is still filtered after resolution.
  EXPECT_TRUE(policy.filter_resolved({ip("192.168.1.1")}, 443).allowed.empty());
}

TEST(ObserveDeny, DecidesExactlyAsTheBasePolicy) {
  DestinationPolicy plain(network({"api.example.test:443"}));
  DestinationPolicy observing(network({"api.example.test:443"}), ObserveMode::deny);
  for (const char* name : {"api.example.test", "registry.example.test", "localhost"}) {
    EXPECT_EQ(plain.decide_name(name, 443).allowed, observing.decide_name(name, 443).allowed)
        << name;
    EXPECT_EQ(plain.name_may_resolve(name), observing.name_may_resolve(name)) << name;
  }
  EXPECT_FALSE(observing.decide_literal(ip("203.0.113.7"), 443).allowed);
}

TEST(SyntheticAddresses, OnePerNameStableAndInsideTheBenchmarkingRange) {
  SyntheticAddresses synthetic;
  std::set<std::string> seen;
  for (int i = 0; i < 600; ++i) {
    const std::string name = "host" + std::to_string(i) + ".example.test";
    std::optional<IpAddress> address = synthetic.address_for(name);
    ASSERT_TRUE(address.has_value());
    EXPECT_TRUE(SyntheticAddresses::contains(*address)) << address->to_string();
    EXPECT_NE(address->bytes[3], 0);
    EXPECT_NE(address->bytes[3], 255);
    EXPECT_TRUE(seen.insert(address->to_string()).second) << "reused " << address->to_string();
    EXPECT_EQ(*synthetic.address_for(name), *address);  // the same name, the same answer
  }
  EXPECT_EQ(synthetic.address_for("host0.example.test")->to_string(), "198.18.0.1");
  EXPECT_FALSE(SyntheticAddresses::contains(ip("198.20.0.1")));
  EXPECT_TRUE(SyntheticAddresses::contains(ip("198.19.255.254")));
}

TEST(DroppedDatagrams, CountedOnlyUnderObserveAndReadFromNftJson) {
  EXPECT_THAT(capture_ruleset({}, false), ::testing::Not(HasSubstr("dropped_udp4")));
  const std::string counting = capture_ruleset({}, true);
  EXPECT_THAT(counting, HasSubstr("set dropped_udp4"));
  EXPECT_THAT(counting, HasSubstr("update @dropped_udp4 { ip daddr . udp dport }"));
  // The counting rules sit in the fence, after its loopback accepts and before its drop policy.
  EXPECT_LT(counting.find("ip6 daddr ::1 accept\n    meta l4proto udp update"),
            counting.find("update @dropped_icmp6"));
  // What `nft -j list table inet airlock` printed for two UDP destinations and one ICMP one.
  const std::string json = R"({"nftables": [{"metainfo": {"version": "1.0.6"}},
    {"set": {"family": "inet", "name": "dropped_udp4", "table": "airlock",
      "elem": [{"elem": {"val": {"concat": ["9.9.9.9", 123]}, "counter": {"packets": 3, "bytes": 87}}},
               {"elem": {"val": {"concat": ["8.8.4.4", 5000]}, "counter": {"packets": 1, "bytes": 29}}}]}},
    {"set": {"family": "inet", "name": "dropped_icmp4", "table": "airlock",
      "elem": [{"elem": {"val": "1.1.1.1", "counter": {"packets": 2, "bytes": 168}}}]}},
    {"set": {"family": "inet", "name": "dropped_udp6", "table": "airlock"}},
    {"chain": {"family": "inet", "table": "airlock", "name": "fence"}}]})";
  Result<std::vector<DroppedDatagrams>> counts = parse_dropped_counts(json);
  ASSERT_TRUE(counts) << counts.error().message;
  ASSERT_EQ(counts->size(), 3u);
  EXPECT_EQ((*counts)[0].protocol, "udp");
  EXPECT_EQ((*counts)[0].address, "9.9.9.9");
  EXPECT_EQ((*counts)[0].port, 123);
  EXPECT_EQ((*counts)[0].packets, 3u);
  EXPECT_EQ((*counts)[2].protocol, "icmp");
  EXPECT_EQ((*counts)[2].address, "1.1.1.1");
  EXPECT_EQ((*counts)[2].packets, 2u);
  EXPECT_FALSE(parse_dropped_counts("Error: No such file or directory"));
}

}  // namespace
}  // namespace airlock::egress
