// Protected paths that did not exist when the sandbox started cannot be bound read-only (there
// is nothing to mount on). If the agent created one (.profile, .envrc, .git/commondir, ...),
// it would run later, outside the sandbox: after the run it is renamed aside, loudly.
#pragma once

#include <string>
#include <vector>

namespace airlock::supervisor {

struct QuarantinedPath {
  std::string path;      // workspace-relative, as in the policy
  std::string moved_to;  // workspace-relative
  std::string problem;   // empty on success; why the rename failed otherwise
};

std::vector<QuarantinedPath> quarantine_created_paths(
    const std::string& workspace, const std::vector<std::string>& absent_at_start,
    const std::string& sandbox_id);

}  // namespace airlock::supervisor
