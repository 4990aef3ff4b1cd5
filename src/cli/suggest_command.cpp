// `airlock suggest AUDIT.jsonl... [--base POLICY] [--collapse N]`: the recordings' events in
// order, the suggested policy on stdout (src/suggest does the work).
#include <fmt/format.h>

#include "cli/commands.h"
#include "suggest/audit_events.h"
#include "suggest/policy_suggestion.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {

int suggest_command(const SuggestArguments& arguments) {
  std::vector<nlohmann::json> events;
  for (const std::string& file : arguments.audit_files) {
    Result<std::vector<nlohmann::json>> read = suggest::read_audit_events(file);
    if (!read) {
      fmt::print(stderr, "airlock: {}\n", read.error().message);
      return supervisor::kExitBadInput;
    }
    std::vector<nlohmann::json>& file_events = read.value();
    events.insert(events.end(), std::make_move_iterator(file_events.begin()),
                  std::make_move_iterator(file_events.end()));
  }
  suggest::SuggestOptions options;
  if (arguments.base) options.base = *arguments.base;
  options.collapse = arguments.collapse;
  options.recordings = arguments.audit_files;
  Result<std::string> suggestion = suggest::suggest_policy(events, options);
  if (!suggestion) {
    fmt::print(stderr, "airlock: {}\n", suggestion.error().message);
    return supervisor::kExitBadInput;
  }
  fmt::print("{}", *suggestion);
  return 0;
}

}  // namespace airlock::cli
