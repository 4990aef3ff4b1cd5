// The policy a command works on: a file, a built-in profile, or the embedded default. run,
// observe and explain choose it the same way.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "policy/policy.h"

namespace airlock::cli {

// `file_option` names the file's argument in the conflict message ("--policy", "a policy file").
Result<policy::Policy> load_chosen_policy(const std::optional<std::string>& file,
                                          const std::optional<std::string>& profile,
                                          const std::string& file_option);

}  // namespace airlock::cli
