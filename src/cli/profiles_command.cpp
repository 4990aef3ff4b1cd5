// `airlock profiles`: one line per built-in profile, its name and description.
#include <fmt/format.h>

#include "cli/commands.h"
#include "policy/policy_loader.h"
#include "policy/profiles.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {

int profiles_command() {
  for (const std::string& name : policy::builtin_profile_names()) {
    Result<policy::Policy> profile = policy::load_profile(name);
    if (!profile) {
      // A built-in profile that does not load is a build defect: say so, never hide it.
      fmt::print(stderr, "airlock: {}\n", profile.error().message);
      return supervisor::kExitSetupFailed;
    }
    fmt::print("{:<12} {}\n", name, profile->description);
  }
  return 0;
}

}  // namespace airlock::cli
