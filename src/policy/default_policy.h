// The embedded default policy, already loaded: `airlock run` with no policy file is the main job,
// and parsing the default profile's YAML at every start was half of the supervisor's instructions
// before the sandbox was created (callgrind). A build tool loads profiles/default.yaml with the
// same loader and writes the result out as code; a unit test checks the two are equal.
#pragma once

#include <string>

#include "common/result.h"
#include "policy/policy.h"

namespace airlock::policy {

Policy compiled_default_policy();

// A built-in profile by name: the compiled default, or any other profile loaded from its YAML.
Result<Policy> builtin_policy(const std::string& profile_name);

}  // namespace airlock::policy
