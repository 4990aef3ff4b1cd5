#include "suggest/suggestion_base.h"

#include <sys/stat.h>

#include <algorithm>

#include "common/file_io.h"
#include "policy/default_policy.h"
#include "policy/policy_loader.h"
#include "policy/profiles.h"
#include "policy/yaml_documents.h"

namespace airlock::suggest {
namespace {

std::string profile_list() {
  std::string known;
  for (const std::string& name : policy::builtin_profile_names())
    known += (known.empty() ? "" : ", ") + name;
  return known;
}

}  // namespace

Result<SuggestionBase> load_suggestion_base(const std::string& base) {
  const std::vector<std::string> profiles = policy::builtin_profile_names();
  if (std::find(profiles.begin(), profiles.end(), base) != profiles.end()) {
    Result<policy::Policy> resolved = policy::builtin_policy(base);
    if (!resolved) return resolved.error();
    SuggestionBase profile;
    profile.label = "the built-in profile " + base;
    profile.resolved = std::move(resolved).value();
    profile.profile = base;
    return profile;
  }
  struct stat status {};
  if (::stat(base.c_str(), &status) != 0) {
    return Error{"--base " + base + ": neither a built-in profile (" + profile_list() +
                 ") nor a policy file"};
  }
  Result<std::string> text = read_file(base);
  if (!text) return Error{base + ":1:1: " + text.error().message};
  Result<policy::Policy> resolved = policy::load_policy_text(*text, base);
  if (!resolved) return resolved.error();
  SuggestionBase file;
  file.label = base;
  file.from_file = true;
  file.resolved = std::move(resolved).value();
  try {
    file.document = policy::read_first_document(*text).root;
  } catch (const YAML::Exception& failure) {
    // The loader above read the same text; this only happens if the file changed meanwhile.
    return Error{base + ":1:1: not valid YAML: " + failure.msg};
  }
  if (file.document["enforce"].IsDefined()) {
    return Error{base +
                 ":1:1: the base is in the seed (enforce:) form; suggest builds on a v1 "
                 "policy (version: 1, name:, network:, ...)"};
  }
  return file;
}

}  // namespace airlock::suggest
