// The policy a suggestion builds on (`--base`): a built-in profile, which the suggestion
// extends, or a policy file, whose own document the suggestion copies and adds to.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "common/result.h"
#include "policy/policy.h"

namespace airlock::suggest {

struct SuggestionBase {
  std::string label;  // "the built-in profile NAME" or the file's path
  bool from_file = false;
  policy::Policy resolved;  // what the base already allows, denies and limits
  YAML::Node document;      // the file's top-level mapping; null for a profile
  std::string profile;      // the profile's name, when not from_file
};

// A built-in profile name wins over a file of the same name. Errors are the loader's own
// ("FILE:LINE:COL: ..."), or say that NAME is neither a profile nor a file.
Result<SuggestionBase> load_suggestion_base(const std::string& base);

}  // namespace airlock::suggest
