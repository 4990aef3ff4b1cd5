// filesystem.read, filesystem.write (granted and protected) and filesystem.hidden, as the launch
// plan builds the view (sandbox/launch_plan.cpp) and Landlock backs it (landlock_rules.cpp).
// Paths are shown as the policy writes them: "~" is the caller's $HOME at run time.
#include <fmt/format.h>

#include "explain/rows.h"

namespace airlock::explain {
namespace {

std::vector<std::string> paths_of(const std::vector<policy::PathEntry>& entries) {
  std::vector<std::string> paths;
  paths.reserve(entries.size());
  for (const policy::PathEntry& entry : entries) paths.push_back(entry.path);
  return paths;
}

std::string first_source(const std::vector<policy::PathEntry>& entries) {
  return entries.empty() ? "" : source_of(entries.front().where);
}

// Landlock is the second write layer; say what of it this kernel lacks.
std::vector<std::string> landlock_gaps(const HostSupport& host) {
  if (host.landlock_abi == 0) {
    return {
        "Landlock: the kernel does not offer it; writes are confined by the mount layer alone "
        "(airlock run refuses unless --allow-degraded)"};
  }
  if (host.landlock_abi < 3) {
    return {
        fmt::format("Landlock ABI {} does not cover truncate(2) (ABI 3 does); the read-only "
                    "mounts still refuse it",
                    host.landlock_abi)};
  }
  return {};
}

CapabilityRow read_row(const policy::Policy& policy) {
  CapabilityRow row;
  row.capability = "filesystem.read";
  row.verdict = Verdict::granted;
  row.targets = paths_of(policy.filesystem.read_only);
  row.scope =
      "the listed host paths, read-only (missing ones are skipped); everything filesystem.write "
      "grants; a minimal /dev (null, zero, full, random, urandom, tty, pts, shm); /proc of the "
      "sandbox's own pid namespace, read-only, hidepid=2; no /sys; nothing else of the host";
  row.layers = {Layer::mount, Layer::namespaces};
  row.source = first_source(policy.filesystem.read_only);
  return row;
}

CapabilityRow write_row(const policy::Policy& policy, const HostSupport& host) {
  CapabilityRow row;
  row.capability = "filesystem.write";
  row.verdict = Verdict::granted;
  row.targets.push_back(policy.workspace);
  for (const std::string& path : paths_of(policy.filesystem.read_write))
    row.targets.push_back(path);
  for (const char* scratch : {"/tmp", "/run", "/dev/shm", "$HOME"})
    row.targets.emplace_back(scratch);
  row.scope = fmt::format(
      "the workspace ({}: relative to the current directory at run time; --workspace overrides) "
      "and the read_write paths, on the host; /tmp, /run, /dev/shm and $HOME are private tmpfs, "
      "empty at start and gone at exit ($HOME stays the host's when it is the workspace or inside "
      "it); nothing else is writable",
      policy.workspace);
  if (host.root) {
    row.scope +=
        "; started by root, the workspace and read_write paths of its owner are idmapped: "
        "files appear owned by uid 65534 and are stored under the owner's uid";
  }
  row.layers = {Layer::mount, Layer::landlock};
  row.not_enforced = landlock_gaps(host);
  if (host.landlock_abi == 0) row.layers = {Layer::mount};
  row.source = source_of(policy.workspace_where);
  return row;
}

CapabilityRow protect_row(const policy::Policy& policy) {
  CapabilityRow row;
  row.capability = "filesystem.write";
  row.verdict = Verdict::denied;
  row.targets = paths_of(policy.filesystem.protect);
  row.scope =
      "inside the workspace, read-only when present at start (bound onto themselves, parent "
      "directories pinned so they cannot be renamed away; Landlock cannot carve read-only holes "
      "in a writable tree, so the mount layer alone holds them); one the agent creates is renamed "
      "to NAME.airlock-quarantine-ID when the sandbox ends (.git/hooks is created empty when "
      ".git exists, so it is always protected)";
  row.layers = {Layer::mount, Layer::supervisor};
  row.source = first_source(policy.filesystem.protect);
  return row;
}

CapabilityRow hidden_row(const policy::Policy& policy) {
  CapabilityRow row;
  row.capability = "filesystem.hidden";
  row.verdict = Verdict::denied;
  row.targets = paths_of(policy.filesystem.hidden);
  // prepare_credentials hides these the same way (cli/credential_setup.cpp).
  for (const policy::CredentialRule& rule : policy.credentials) {
    if (rule.from.rfind("file:", 0) == 0) row.targets.push_back(rule.from.substr(5));
    for (const std::string* file : {&rule.cert, &rule.key}) {
      if (!file->empty()) row.targets.push_back(*file);
    }
  }
  row.scope =
      "never visible: an empty read-only directory or file covers each one the view would "
      "show; $HOME itself is a private empty tmpfs unless the workspace is or contains it; "
      "credential source files and mTLS certificates and keys are hidden too; other processes "
      "of the host are invisible (own pid namespace)";
  row.layers = {Layer::mount, Layer::namespaces};
  row.source = first_source(policy.filesystem.hidden);
  return row;
}

}  // namespace

void add_filesystem_rows(const policy::Policy& policy, const HostSupport& host,
                         std::vector<CapabilityRow>& rows) {
  rows.push_back(read_row(policy));
  rows.push_back(write_row(policy, host));
  if (!policy.filesystem.protect.empty()) rows.push_back(protect_row(policy));
  rows.push_back(hidden_row(policy));
}

}  // namespace airlock::explain
