// The policy as canonical JSON: what `airlock check --json` prints, and what the policy hash
// in every audit event is computed over (so two files meaning the same thing hash the same).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "policy/policy.h"

namespace airlock::policy {

nlohmann::json to_json(const Policy& policy);
std::string policy_sha256(const Policy& policy);  // lower-case hex

}  // namespace airlock::policy
