#include <gtest/gtest.h>

#include "policy/network_rule.h"

namespace airlock::policy {
namespace {

TEST(NetworkRule, ParsesHostAndPort) {
  NetworkRuleParse parsed = parse_network_rule("API.Anthropic.com.:443");
  ASSERT_TRUE(parsed.rule) << parsed.problem;
  EXPECT_EQ(parsed.rule->host, "api.anthropic.com");
  EXPECT_EQ(parsed.rule->port, 443);
}

}  // namespace
}  // namespace airlock::policy
