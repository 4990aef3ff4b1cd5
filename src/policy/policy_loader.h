// YAML policy text -> validated Policy. Every error is one line "FILE:LINE:COL: what is wrong;
// what to write instead". Built-in profiles named in `extends` are merged underneath first.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/policy.h"

namespace airlock::policy {

// `file_name` is only used in messages. Never throws.
Result<Policy> load_policy_text(std::string_view text, const std::string& file_name);
Result<Policy> load_policy_file(const std::string& path);
// The embedded default policy (what `airlock run` uses when given no policy).
Result<Policy> load_profile(const std::string& profile_name);

}  // namespace airlock::policy
