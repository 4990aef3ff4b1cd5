// process.exec, process.limits (one row per limit), process.env, process.privileges and
// identity, as the launch plan, the child (sandbox/child.cpp, capabilities.cpp) and the
// supervisor's layer assessment (supervisor/supervisor.cpp) enforce them.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "credentials/secret_environment.h"
#include "egress/sandbox_ports.h"
#include "explain/rows.h"

namespace airlock::explain {
namespace {

CapabilityRow limit_row(std::string target, Verdict verdict, std::string scope,
                        std::vector<Layer> layers, std::string source = "") {
  CapabilityRow row;
  row.capability = "process.limits";
  row.verdict = verdict;
  row.targets = {std::move(target)};
  row.scope = std::move(scope);
  row.layers = std::move(layers);
  row.source = std::move(source);
  return row;
}

CapabilityRow tasks_row(const policy::ProcessPolicy& process, const HostSupport& host) {
  if (!process.max_pids) {
    return limit_row("tasks=unlimited", Verdict::granted,
                     "not limited by the policy (the caller's own RLIMIT_NPROC applies)", {});
  }
  const uint32_t pids = *process.max_pids;
  const std::string source = source_of(process.max_pids_where);
  if (host.pids.layer) {
    return limit_row(fmt::format("tasks={}", pids), Verdict::limited,
                     fmt::format("at most {} tasks (processes and threads): pids.max={} in a {}, "
                                 "RLIMIT_NPROC={} in the sandbox's user namespace as a second "
                                 "layer; a refused fork is a sandbox.limit event",
                                 pids, pids, *host.pids.layer, pids + 1),
                     {Layer::cgroup, Layer::rlimit}, source);
  }
  CapabilityRow row = limit_row(
      fmt::format("tasks={}", pids), Verdict::limited,
      fmt::format("at most {} tasks (processes and threads): RLIMIT_NPROC={}, counted per user "
                  "namespace (the sandbox's own)",
                  pids, pids),
      {Layer::rlimit}, source);
  row.not_enforced = {"no pids cgroup for this user (" + host.pids.problem +
                      "): RLIMIT_NPROC alone, and refused forks are not counted"};
  return row;
}

CapabilityRow memory_row(const policy::ProcessPolicy& process, const HostSupport& host) {
  if (!process.max_memory_mb) {
    return limit_row("memory=unlimited", Verdict::granted, "not limited by the policy", {});
  }
  const uint64_t mib = *process.max_memory_mb;
  const std::string source = source_of(process.max_memory_where);
  if (host.memory.layer) {
    return limit_row(
        fmt::format("memory={}MiB", mib), Verdict::limited,
        fmt::format("{} MiB for the whole sandbox in a {} (no swapping past it); refused "
                    "allocations and OOM kills are sandbox.limit events",
                    mib, *host.memory.layer),
        {Layer::cgroup}, source);
  }
  CapabilityRow row = limit_row(
      fmt::format("memory={}MiB", mib), Verdict::limited,
      fmt::format("{} MiB for the whole sandbox, which needs a memory cgroup", mib), {}, source);
  row.not_enforced = {"no memory cgroup for this user: " + host.memory.problem +
                      "; airlock run refuses this policy here (with --allow-degraded it runs "
                      "without the limit)"};
  return row;
}

void add_limit_rows(const policy::ProcessPolicy& process, const HostSupport& host,
                    std::vector<CapabilityRow>& rows) {
  rows.push_back(tasks_row(process, host));
  rows.push_back(memory_row(process, host));
  if (process.max_open_files) {
    CapabilityRow files =
        limit_row(fmt::format("open-files={}", *process.max_open_files), Verdict::limited,
                  fmt::format("at most {} open files per process (RLIMIT_NOFILE, soft and hard)",
                              *process.max_open_files),
                  {Layer::rlimit}, source_of(process.max_open_files_where));
    if (host.open_files_hard_limit != 0 && *process.max_open_files > host.open_files_hard_limit) {
      files.not_enforced = {fmt::format(
          "above this session's hard limit of {} open files: airlock run refuses this policy",
          host.open_files_hard_limit)};
    }
    rows.push_back(std::move(files));
  } else {
    rows.push_back(limit_row("open-files=inherited", Verdict::granted,
                             "not limited by the policy (the caller's RLIMIT_NOFILE applies)", {}));
  }
  rows.push_back(limit_row("core-dumps=0", Verdict::denied,
                           "no core dumps (RLIMIT_CORE=0): a core file could carry the agent's "
                           "memory out of the sandbox",
                           {Layer::rlimit}));
  if (process.timeout_seconds) {
    rows.push_back(limit_row(
        fmt::format("timeout={}s", *process.timeout_seconds), Verdict::limited,
        fmt::format("the sandbox gets SIGTERM after {}s and SIGKILL 5s later; a sandbox.limit "
                    "event records it",
                    *process.timeout_seconds),
        {Layer::supervisor}));
  } else {
    rows.push_back(limit_row("timeout=none", Verdict::granted, "no time limit", {}));
  }
}

CapabilityRow exec_row(const policy::Policy& policy) {
  CapabilityRow row;
  row.capability = "process.exec";
  row.verdict = Verdict::granted;
  row.targets = {"*"};
  row.scope =
      "any program the view shows, including ones the agent writes into the workspace or /tmp; "
      "setuid/setgid bits and file capabilities give nothing (nosuid mounts, no_new_privs); "
      "airlock never executes what it relays";
  if (!policy.process.syscalls.use_default)
    row.scope += "; only with the syscalls of the allowlist (see syscalls)";
  row.layers = {Layer::mount, Layer::no_new_privs, Layer::capabilities};
  return row;
}

// Names that show what the environment filter drops; each is checked against the real filter,
// so the row never lists a name that would pass.
std::vector<std::string> dropped_examples(const policy::Policy& policy) {
  static const char* const kExamples[] = {
      "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY",
      "DATABASE_URL",      "SSH_AUTH_SOCK",  "KUBECONFIG"};
  const policy::EnvironmentPolicy& env = policy.process.env;
  std::vector<std::string> names;
  for (const char* name : kExamples) {
    const bool passed = std::find(env.pass.begin(), env.pass.end(), name) != env.pass.end();
    const bool credential =
        std::any_of(policy.credentials.begin(), policy.credentials.end(),
                    [&](const policy::CredentialRule& rule) { return rule.name == name; });
    if (credentials::looks_like_secret(name) && !passed && !credential) names.emplace_back(name);
  }
  return names;
}

void add_environment_rows(const policy::Policy& policy, std::vector<CapabilityRow>& rows) {
  const policy::EnvironmentPolicy& env = policy.process.env;
  CapabilityRow granted;
  granted.capability = "process.env";
  granted.verdict = Verdict::granted;
  granted.targets = {"*"};
  granted.scope = "the caller's environment, less secret-looking names";
  if (!env.pass.empty()) {
    granted.scope += fmt::format("; passed although secret-looking: {}", fmt::join(env.pass, " "));
  }
  for (const policy::EnvironmentVariable& variable : env.set) {
    granted.targets.push_back(variable.name);
  }
  if (!env.set.empty()) {
    std::vector<std::string> assignments;
    for (const policy::EnvironmentVariable& variable : env.set)
      assignments.push_back(variable.name + "=" + variable.value);
    granted.scope += fmt::format("; set: {}", fmt::join(assignments, " "));
  }
  if (!policy.credentials.empty()) {
    granted.scope +=
        "; credential variables hold placeholders; SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, "
        "REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, GIT_SSL_CAINFO and CODEX_CA_CERTIFICATE point at the "
        "sandbox's bundle (host roots plus the run CA)";
  }
  if (policy.network.mode == policy::NetworkMode::allowlist) {
    granted.scope += fmt::format(
        "; HTTP(S)_PROXY=http://127.0.0.1:{} and ALL_PROXY=socks5h://127.0.0.1:{} replace the "
        "caller's proxy variables",
        egress::kHttpProxyPort, egress::kSocksPort);
  }
  granted.scope += "; AIRLOCK_SANDBOX_NAME and AIRLOCK_SANDBOX_ID are set";
  granted.layers = {Layer::environment};
  rows.push_back(std::move(granted));

  CapabilityRow dropped;
  dropped.capability = "process.env";
  dropped.verdict = Verdict::denied;
  dropped.targets = dropped_examples(policy);
  dropped.scope =
      "secret-looking variables are not passed (one stderr line each): names ending in _KEY, "
      "_TOKEN, _SECRET, _PASSWORD, _PASSWD, _PASS, _CREDENTIALS, _AUTH, _PAT, _COOKIE or "
      "_SESSION, containing PASSWORD, SECRET or PRIVATE_KEY, AWS_*, and well-known ones such as "
      "the examples listed, unless process.env.pass names them; a secret under an innocent name "
      "still passes";
  dropped.layers = {Layer::environment};
  rows.push_back(std::move(dropped));
}

CapabilityRow privileges_row() {
  CapabilityRow row;
  row.capability = "process.privileges";
  row.verdict = Verdict::denied;
  row.targets = {"capabilities", "setuid"};
  row.scope =
      "no capability in any of the five sets, securebits locked; no_new_privs, so setuid/setgid "
      "binaries and file capabilities give nothing; the sandbox's init (pid 1) is not dumpable";
  row.layers = {Layer::capabilities, Layer::no_new_privs, Layer::namespaces};
  return row;
}

CapabilityRow identity_row(const HostSupport& host) {
  CapabilityRow row;
  row.capability = "identity";
  row.verdict = Verdict::granted;
  if (host.root) {
    row.targets = {"uid=65534", "gid=65534"};
    row.scope =
        "started by root: uid/gid 65534 (nobody) in a user namespace that maps only that id and "
        "owns none of the sandbox's other namespaces; root-only files (/etc/shadow, /root, other "
        "users' 0600 files) stay unreadable";
    row.layers = {Layer::namespaces, Layer::mount};
  } else {
    row.targets = {fmt::format("uid={}", host.uid), fmt::format("gid={}", host.gid)};
    row.scope = fmt::format(
        "your own uid {} and gid {}, mapped onto themselves in a new user namespace; no "
        "capabilities (see process.privileges)",
        host.uid, host.gid);
    row.layers = {Layer::namespaces};
  }
  if (!host.user_namespace_problem.empty()) {
    row.not_enforced = {host.user_namespace_problem + ": airlock run cannot start a sandbox here"};
  }
  return row;
}

}  // namespace

void add_process_rows(const policy::Policy& policy, const HostSupport& host,
                      std::vector<CapabilityRow>& rows) {
  rows.push_back(exec_row(policy));
  add_limit_rows(policy.process, host, rows);
  add_environment_rows(policy, rows);
  rows.push_back(privileges_row());
  rows.push_back(identity_row(host));
}

}  // namespace airlock::explain
