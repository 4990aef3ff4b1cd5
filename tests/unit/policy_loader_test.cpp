#include <gtest/gtest.h>

#include "policy/policy_loader.h"

namespace airlock::policy {
namespace {

TEST(PolicyLoader, LoadsDefaultProfile) {
  Result<Policy> policy = load_profile("default");
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->name, "default");
}

}  // namespace
}  // namespace airlock::policy
