// TEMPORARY: replaced by the real command in this change set.
#include <fmt/format.h>

#include "cli/commands.h"

namespace airlock::cli {

int audit_verify_command(const AuditVerifyArguments& /*arguments*/) {
  fmt::print(stderr, "airlock: not built yet\n");
  return 2;
}

}  // namespace airlock::cli
