// Parts of the v1 schema that are parsed and validated but not enforced by this version of
// `airlock run`. Run refuses a policy that uses them; check warns. Never silently ignored.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.h"

namespace airlock::policy {

// Each entry: "FILE:LINE:COL: <feature> is not supported yet; <what to do>".
std::vector<std::string> unsupported_features(const Policy& policy);

}  // namespace airlock::policy
