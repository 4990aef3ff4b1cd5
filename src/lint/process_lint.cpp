// Process limits and the published agent API.
#include <fmt/format.h>

#include "lint/lint_rules.h"

namespace airlock::lint {

void lint_process(const LintContext& context, Findings& findings) {
  const policy::ProcessPolicy& process = context.policy.process;
  const policy::SourceLocation section = context.in_policy_file(process.where);
  if (!process.max_memory_mb) {
    findings.push_back(
        {"process.no-memory-limit", Severity::warning, section,
         "no memory limit: one runaway or hostile process can take the host's memory",
         "add process.max_memory_mb (e.g. 4096); airlock run then needs a writable memory cgroup "
         "(a delegated cgroup v2, or root)"});
  }
  if (!process.max_pids) {
    findings.push_back({"process.no-pids-limit", Severity::warning, section,
                        "no process limit: a fork bomb inside the sandbox reaches the host",
                        "add process.max_pids (the default profile has 4096)"});
  }
  // connect() on a Unix socket needs write permission on it: the mode is the first gate, and
  // airlock's SO_PEERCRED check (owner, root, `uids`) the second.
  for (const policy::PublishRule& rule : context.policy.publish) {
    if ((rule.mode & 0002U) != 0) {
      findings.push_back(
          {"publish.socket-open-to-others", Severity::warning, rule.where,
           fmt::format("the agent's API socket {} has mode {:04o}: every local user passes the "
                       "filesystem check, and only airlock's uid check is left",
                       rule.unix_path, rule.mode),
           "use mode: \"0600\" (the default), or \"0660\" with a group that holds the uids you "
           "list"});
    }
    if (!rule.uids.empty() && (rule.mode & 0022U) == 0) {
      findings.push_back(
          {"publish.uids-cannot-connect", Severity::warning, rule.where,
           fmt::format("uids are listed for {}, but its mode {:04o} lets only the owner connect: "
                       "the filesystem refuses them before airlock sees them",
                       rule.unix_path, rule.mode),
           "use mode: \"0660\" with a group they are in (or \"0666\", and rely on uids alone)"});
    }
  }
}

}  // namespace airlock::lint
