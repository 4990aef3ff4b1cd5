#include "cli/policy_choice.h"

#include "policy/default_policy.h"
#include "policy/policy_loader.h"

namespace airlock::cli {

Result<policy::Policy> load_chosen_policy(const std::optional<std::string>& file,
                                          const std::optional<std::string>& profile,
                                          const std::string& file_option) {
  if (file && profile) {
    return Error{"airlock: " + file_option + " and --profile conflict; a policy file can say " +
                 "'extends: [" + *profile + "]'"};
  }
  return file ? policy::load_policy_file(*file)
              : policy::builtin_policy(profile.value_or("default"));
}

}  // namespace airlock::cli
