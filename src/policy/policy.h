// The validated, immutable policy: everything airlock enforces, checks or exports reads this
// one model. It is produced only by the loader (policy_loader.h), never edited afterwards.
// Equality compares every field, source locations included (the compiled default policy is
// checked against the loaded one this way).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace airlock::policy {

// Where a value came from, so later stages (run-time refusals, lint) can point at the line.
struct SourceLocation {
  std::string file;               // policy file path, or "<profile NAME>" for an embedded profile
  int line = 0;                   // 1-based; 0 when unknown
  int column = 0;                 // 1-based
  std::string to_string() const;  // "file:line:col"
  bool operator==(const SourceLocation&) const = default;
};

// What a read_write entry does when its path is missing: refuse (the default), or create it on
// the host first, owned by the caller (an agent's config directory on its first run).
enum class CreateMissing { no, directory, file };

struct PathEntry {
  std::string path;  // as written: absolute, "~" or "~/...", or workspace-relative (protect)
  SourceLocation where;
  CreateMissing create = CreateMissing::no;  // read_write entries only
  bool operator==(const PathEntry&) const = default;
};

struct FilesystemPolicy {
  std::vector<PathEntry> read_only;   // visible, read-only (missing paths are skipped)
  std::vector<PathEntry> read_write;  // visible, writable (must exist)
  std::vector<PathEntry> hidden;      // never visible, even when an exposed tree contains them
  std::vector<PathEntry> protect;     // workspace-relative, read-only inside the writable workspace
  bool operator==(const FilesystemPolicy&) const = default;
};

enum class NetworkMode { deny_all, allowlist, observe };
const char* to_string(NetworkMode mode);

struct NetworkRule {
  std::string host;  // normalised lower-case name, "*.suffix", IP literal or CIDR
  uint16_t port = 0;
  SourceLocation where;
  bool operator==(const NetworkRule&) const = default;
};

struct NetworkPolicy {
  NetworkMode mode = NetworkMode::deny_all;
  SourceLocation mode_where;
  std::vector<NetworkRule> allow;
  std::vector<NetworkRule> deny;
  std::vector<PathEntry> unix_sockets;
  bool deny_internal = true;
  SourceLocation internal_where;  // the `internal:` value, when one was written
  // Where the proxy resolves allowed names: "IP" or "IP:PORT" (default: the host's resolv.conf).
  std::optional<std::string> dns_upstream;
  SourceLocation dns_upstream_where;
  uint32_t max_connections = 1024;  // concurrent proxied connections of one sandbox
  // Extra roots the proxy trusts, beside the host's store, when it re-originates TLS for a
  // credential's host (an internal CA, or a test's).
  std::optional<std::string> upstream_ca;
  SourceLocation upstream_ca_where;
  bool operator==(const NetworkPolicy&) const = default;
};

// An agent's API on a host Unix socket (src/publish/). With `port`, airlock relays each
// connection to 127.0.0.1:port inside the sandbox's network namespace; without, to the socket
// the agent itself creates at `unix_path` inside (its directory is a private one of airlock's).
struct PublishRule {
  std::string unix_path;
  uint16_t port = 0;  // 0: the agent creates the socket itself (the seed's bind_address form)
  uint32_t mode = 0600;
  std::vector<uint32_t> uids;  // peers allowed besides the sandbox's owner and root
  SourceLocation where;
  bool operator==(const PublishRule&) const = default;
};

struct SyscallPolicy {
  bool use_default = true;         // the built-in deny list
  std::vector<std::string> allow;  // explicit allowlist, when use_default is false
  SourceLocation where;
  bool operator==(const SyscallPolicy&) const = default;
};

struct EnvironmentVariable {
  std::string name;
  std::string value;
  SourceLocation where;
  bool operator==(const EnvironmentVariable&) const = default;
};

// The caller's environment reaches the sandbox except secret-looking names
// (credentials/secret_environment.h); `pass` lets named ones through, `set` sets values.
struct EnvironmentPolicy {
  std::vector<std::string> pass;
  std::vector<SourceLocation> pass_where;  // where pass[i] was listed
  std::vector<EnvironmentVariable> set;    // one entry per name; a later policy's value wins
  bool operator==(const EnvironmentPolicy&) const = default;
};

struct ProcessPolicy {
  SourceLocation where;  // the `process:` section of the last document that has one
  SyscallPolicy syscalls;
  EnvironmentPolicy env;
  std::optional<uint64_t> max_memory_mb;
  SourceLocation max_memory_where;
  std::optional<uint32_t> max_pids;
  SourceLocation max_pids_where;
  std::optional<uint32_t> max_open_files;
  SourceLocation max_open_files_where;
  std::optional<uint64_t> timeout_seconds;
  bool operator==(const ProcessPolicy&) const = default;
};

enum class CredentialType { header, mtls };

// A secret the proxy uses on the sandbox's behalf; the sandbox only ever sees a placeholder.
struct CredentialRule {
  std::string name;  // also the variable that holds the placeholder inside (type header)
  CredentialType type = CredentialType::header;
  // header: where the real value comes from ("env:NAME" or "file:PATH") and where it is used.
  std::string from;
  std::vector<std::string> hosts;  // normalised names, exact
  uint64_t ttl_seconds = 0;        // 0: for the whole run
  uint64_t max_uses = 0;           // 0: unlimited
  bool optional = false;           // a missing source skips the credential instead of failing
  std::string endpoint_variable;   // local endpoint: set to http://127.0.0.1:PORT[path]
  std::string endpoint_path;       // e.g. "/v1"
  // mtls: the proxy dials host:port with this client certificate and verifies with `ca`.
  std::string host;
  uint16_t port = 0;
  std::string cert, key, ca;
  SourceLocation where;
  bool operator==(const CredentialRule&) const = default;
};

struct Policy {
  int version = 1;
  std::string name;
  std::string description;           // one line, shown by `airlock profiles`
  std::vector<std::string> extends;  // profiles merged underneath, in order
  SourceLocation extends_where;      // the `extends:` value of the last document that wrote one
  std::string workspace = ".";
  SourceLocation workspace_where;
  FilesystemPolicy filesystem;
  NetworkPolicy network;
  std::vector<PublishRule> publish;
  ProcessPolicy process;
  std::vector<CredentialRule> credentials;
  std::optional<uint64_t> credential_ttl_seconds;  // seed form: enforce.credential_ttl
  SourceLocation credential_ttl_where;
  std::optional<std::string> audit_path;
  bool operator==(const Policy&) const = default;
};

}  // namespace airlock::policy
