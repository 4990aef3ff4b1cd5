// The capability table: what a policy grants the sandboxed command, row by row, and which
// layer(s) of a real `airlock run` enforce each row on a given host. A pure function of the
// policy and a host description, so the same policy always explains the same way on the same
// host (and identically everywhere with the fixed host of the tests).
#pragma once

#include <string>
#include <vector>

#include "explain/host_support.h"
#include "policy/policy.h"

namespace airlock::explain {

enum class Verdict {
  granted,  // the sandbox may do this, within `scope`
  denied,   // the sandbox cannot do this
  limited,  // granted up to a bound (process.limits)
  on,       // audit only: events are written
  off,      // audit only: nothing is written
};
const char* to_string(Verdict verdict);

// The mechanisms a row can rest on, as docs/explain.md names them.
enum class Layer {
  namespaces,        // user, mount, pid, ipc, uts, net, cgroup namespaces
  mount,             // the pivot_root view: binds, tmpfs, hidden paths
  landlock,          // second filesystem layer: writes only beneath writable mounts
  seccomp,           // the syscall filter
  capabilities,      // every capability dropped, securebits locked
  no_new_privs,      // setuid/file capabilities give nothing
  nftables,          // capture in the sandbox's network namespace
  proxy,             // airlock's egress proxy (decisions, dialling the checked address)
  dns_stub,          // airlock's DNS stub
  tls_interception,  // the run CA, credentials substituted by the proxy
  cgroup,            // memory/pids cgroup (v1 or v2, as the host allows)
  rlimit,            // setrlimit in the sandbox
  supervisor,        // airlock's supervisor process (timeout, audit, quarantine)
  environment,       // the environment the command is started with
};
const char* to_string(Layer layer);

struct CapabilityRow {
  std::string capability;  // e.g. "network.egress", "credential.ANTHROPIC_API_KEY"
  Verdict verdict = Verdict::denied;
  std::vector<std::string> targets;  // what the row is about: paths, host:port, syscalls, limits
  std::string scope;                 // the exact meaning, in words
  std::vector<Layer> layers;         // who enforces it (empty only when nothing needs enforcing)
  std::vector<std::string> not_enforced;  // what this host does not enforce of this row
  std::string source;                     // where the policy says so ("" when implicit)
};

struct CapabilityTable {
  std::string policy_name;
  std::string policy_source;  // "embedded default", "profile NAME" or the file as given
  std::string policy_sha256;  // as in the audit log's sandbox.start
  HostSupport host;
  // Why `airlock run` would refuse this policy on this host (empty: it would run). Lines that
  // only --allow-degraded overrides say so.
  std::vector<std::string> run_refusals;
  std::vector<CapabilityRow> rows;
};

CapabilityTable explain(const policy::Policy& policy, const std::string& policy_source,
                        const HostSupport& host);

}  // namespace airlock::explain
