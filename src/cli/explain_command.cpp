// `airlock explain [--json] [POLICY | --profile NAME]`: loads the policy as `airlock run` does,
// probes this host for the calling user (or takes the fixed description the golden tests use,
// AIRLOCK_EXPLAIN_HOST=fixed) and prints the capability table.
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

#include "cli/commands.h"
#include "cli/policy_choice.h"
#include "explain/capability_table.h"
#include "explain/explain_json.h"
#include "explain/explain_text.h"
#include "explain/host_support.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {
namespace {

// For tests and documentation only: output that does not depend on the machine.
Result<explain::HostSupport> host_support() {
  const char* wanted = std::getenv("AIRLOCK_EXPLAIN_HOST");
  if (wanted == nullptr || *wanted == '\0') return explain::probe_host_support();
  if (std::strcmp(wanted, "fixed") == 0) return explain::fixed_host_support();
  return Error{
      fmt::format("AIRLOCK_EXPLAIN_HOST={} is not understood; unset it to probe this "
                  "host, or set it to 'fixed' for the documented fixed host",
                  wanted)};
}

}  // namespace

int explain_command(const ExplainArguments& arguments) {
  Result<policy::Policy> loaded =
      load_chosen_policy(arguments.policy_file, arguments.profile, "a policy file");
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return supervisor::kExitBadInput;
  }
  Result<explain::HostSupport> host = host_support();
  if (!host) {
    fmt::print(stderr, "airlock: {}\n", host.error().message);
    return supervisor::kExitBadInput;
  }
  const std::string source = arguments.policy_file ? *arguments.policy_file
                             : arguments.profile   ? "profile " + *arguments.profile
                                                   : std::string("embedded default");
  const explain::CapabilityTable table = explain::explain(*loaded, source, *host);
  if (arguments.json) {
    fmt::print("{}\n", explain::to_json(table).dump(2));
  } else {
    fmt::print("{}", explain::to_text(table));
  }
  return 0;
}

}  // namespace airlock::cli
