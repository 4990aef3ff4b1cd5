#include "policy/default_policy.h"

#include "policy/policy_loader.h"

namespace airlock::policy {

Policy compiled_default_policy() {
  Policy policy;
#include "default_policy.inc"
  return policy;
}

Result<Policy> builtin_policy(const std::string& profile_name) {
  if (profile_name == "default") return compiled_default_policy();
  return load_profile(profile_name);
}

}  // namespace airlock::policy
