// `airlock suggest` and `observe -o`: recorded events in, the minimal policy that would have
// allowed what they show (and nothing else) out, as YAML text. docs/observe.md has the rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace airlock::suggest {

struct SuggestOptions {
  std::string base = "default";         // a built-in profile name or a policy file
  std::optional<uint32_t> collapse;     // N or more sibling names under one parent: `*.parent`
  std::vector<std::string> recordings;  // the files the events came from, for the header
};

// A valid v1 policy extending `base`, deterministic (rules sorted), every rule commented with
// the programs that needed it. An error names the base that could not be loaded.
Result<std::string> suggest_policy(const std::vector<nlohmann::json>& events,
                                   const SuggestOptions& options);

}  // namespace airlock::suggest
