// LaunchPlan: everything the child needs, computed by the parent before clone so that the child
// (between clone and exec) only reads prepared strings and buffers and allocates nothing.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "policy/policy.h"

namespace airlock::sandbox {

enum class MountKind {
  bind_read_only,   // host path, read-only, nosuid, nodev
  bind_read_write,  // host path, writable, nosuid, nodev
  // Started by root: a read_write path owned by the workspace's owner, idmapped like the
  // workspace, so the sandbox user can write it (an agent's config directory in root's $HOME).
  owned_read_write,
  workspace,  // the workspace: bind_read_write, idmapped when started by root
  tmpfs,      // fresh, empty, writable
  symlink,    // reproduce a host symlink (e.g. merged-/usr /bin -> usr/bin)
  protect,    // a path inside the writable workspace, bound read-only onto itself
  pin,        // a directory bound onto itself so it cannot be renamed away (EBUSY)
  hide,       // replaced by an empty, read-only directory or file
  file,       // a read-only file whose content (in `source`) the plan generated
};

struct MountStep {
  MountKind kind;
  std::string source;  // "/oldroot" + host path (binds), link text (symlink)
  std::string target;  // "/newroot" + path inside the sandbox
  std::string inside;  // path inside the sandbox, for messages and Landlock
  bool is_directory = true;
  std::string options;  // tmpfs mount options, e.g. "mode=1777"
};

// Landlock access sets, named by purpose (the bit values live in landlock_rules.cpp).
enum class LandlockAccess { read_execute, read_write, device };

struct LandlockRule {
  std::string path;  // inside the sandbox
  LandlockAccess access;
};

// The egress proxy's side of the sandbox (network.mode: allowlist).
struct EgressPlan {
  bool enabled = false;
  std::vector<uint16_t> host_loopback_ports;  // localhost:PORT rules, carried to the host
  std::vector<uint16_t> endpoint_ports;       // credentials' local endpoints, served by the proxy
};

// A publish entry without a port (the agent makes its own socket): a private host directory,
// made by the supervisor (0700, the sandbox user's) and shown writable at the socket's directory
// inside; the host socket at the same path as inside is airlock's, relaying to the agent's.
struct PublishDirectory {
  std::string host;    // <control directory>/publish-<sandbox id>-<index>
  std::string inside;  // the socket's directory, under the sandbox's private /run or /tmp
  std::string socket_name;
};

struct LaunchPlan {
  policy::Policy policy;
  std::string sandbox_id;  // unique per run; with policy.name, the audit identity
  std::string policy_sha256;
  std::string workspace;          // absolute host path == path inside
  std::string working_directory;  // the caller's cwd when inside the workspace, else the workspace
  std::string home;               // the caller's HOME, a private tmpfs inside unless exposed
  std::vector<MountStep> mounts;  // in order; parents before children, hidden last
  std::vector<std::string> protect_absent;  // protect entries with nothing to protect yet
  std::vector<LandlockRule> landlock_rules;
  EgressPlan egress;
  std::vector<PublishDirectory> publish_directories;

  // Identity. Started by root the agent runs as kSandboxUid with the workspace idmapped to it.
  bool started_by_root = false;
  uid_t sandbox_uid = 0;
  gid_t sandbox_gid = 0;
  uid_t workspace_owner_uid = 0;
  gid_t workspace_owner_gid = 0;

  bool new_session = true;  // false when stdin is a terminal: job control keeps working
  std::optional<uint32_t> max_pids;
  std::optional<uint32_t> max_open_files;
  std::optional<uint64_t> max_memory_bytes;
  std::optional<uint64_t> timeout_seconds;

  std::vector<sock_filter> seccomp_default;  // always, for the init and the agent
  // `airlock observe`: every execve/execveat inside is reported to the supervisor (a seccomp
  // user-notification listener the init hands over), which records it and lets it continue.
  bool watch_exec = false;
  std::vector<sock_filter> seccomp_allowlist;  // only with an explicit `syscalls:` list
  // `airlock session start`: the init starts no agent and forks each `airlock exec` request
  // (session_channel.h); argv is only what `ps` shows.
  bool session = false;

  std::vector<std::string> argv;
  std::vector<std::string> exec_candidates;  // argv[0] resolved against PATH, tried in order
  std::vector<std::string> environment;
  // Caller variables that looked like secrets and were not passed (names only, for stderr).
  std::vector<std::string> dropped_variables;
};

inline constexpr uid_t kSandboxUid = 65534;  // "nobody": what a root-started agent runs as
inline constexpr gid_t kSandboxGid = 65534;

// What the run's credentials add to the sandbox (see credentials/ and intercept/).
struct CredentialView {
  std::vector<std::string> environment;  // NAME=placeholder, endpoint variables
  std::vector<uint16_t> endpoint_ports;
  // When anything is intercepted: a host file shown read-only in place of the sandbox's system
  // bundle, which the supervisor fills (host bundle + run CA) before the command starts; the
  // usual CA variables point at it.
  std::string trust_bundle_path;
};

// A link of a stack (`airlock up`) as the linking sandbox sees it: a name and the loopback
// address it resolves to (/etc/hosts, and the DNS stub when there is one).
struct LinkHost {
  std::string name;
  std::string address;
};

struct RunRequest {
  policy::Policy policy;
  std::optional<std::string> workspace_override;  // --workspace
  std::vector<std::string> argv;
  CredentialView credentials;
  std::vector<LinkHost> link_hosts;
};

// Where the sandbox's trust bundle lives inside (the host's system bundle path, replaced).
inline constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

Result<LaunchPlan> make_launch_plan(const RunRequest& request);

}  // namespace airlock::sandbox
