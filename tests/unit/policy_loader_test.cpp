// The policy loader: the v1 schema, the seed `enforce:` form, profile merging, and the promise
// that every malformed input becomes exactly one "FILE:LINE:COL: what; what to write" line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "policy/default_policy.h"
#include "policy/policy_json.h"
#include "policy/policy_loader.h"
#include "policy/run_support.h"
#include "seccomp/exec_minimum.h"

namespace airlock::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kFile[] = "p.yaml";

Result<Policy> load(const std::string& text) {
  return load_policy_text(text, kFile);
}

// Loads `text`, which must fail, and returns the message (empty, with a test failure, otherwise).
std::string load_error(const std::string& text) {
  Result<Policy> policy = load(text);
  if (policy) {
    ADD_FAILURE() << "expected an error, but this loaded:\n" << text;
    return "";
  }
  return policy.error().message;
}

std::vector<std::string> paths_of(const std::vector<PathEntry>& entries) {
  std::vector<std::string> out;
  for (const PathEntry& entry : entries) out.push_back(entry.path);
  return out;
}

// The last `count` entries of `entries`, as paths.
std::vector<std::string> tail_paths(const std::vector<PathEntry>& entries, size_t count) {
  std::vector<std::string> all = paths_of(entries);
  if (all.size() < count) return all;
  return std::vector<std::string>(all.end() - static_cast<std::ptrdiff_t>(count), all.end());
}

std::vector<std::string> exec_minimum_names() {
  std::vector<std::string> names;
  for (std::string_view name : seccomp::kExecMinimum) names.emplace_back(name);
  return names;
}

std::string flow_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (const std::string& name : names) out += (out.size() > 1 ? ", " : "") + name;
  return out + "]";
}

// DESIGN.md "Policy file (v1)", without the parts `airlock run` does not enforce yet
// (network allow, credentials, publish). Line numbers are used by the tests below.
constexpr char kDesignExample[] = R"yaml(version: 1
name: aider                 # identity: appears in every audit event
extends: [default]          # built-in profiles merge first
workspace: .                # read-write; everything else read-only or hidden
filesystem:
  read_only: [/usr, /etc]   # added to the defaults
  read_write: [/tmp]
  hidden: [~/.ssh, ~/.aws, ~/.gnupg, ~/.netrc, ~/.docker, ~/.config/gh]
  protect: [.git/hooks]     # read-only even inside the workspace
network:
  mode: deny_all            # deny_all | allowlist | observe
  unix_sockets: [/run/vectordb.sock]
  internal: deny            # RFC1918, loopback, link-local, CGNAT, ULA, metadata
process:
  syscalls: default         # default | [explicit allowlist]
  max_memory_mb: 512
  max_pids: 256
  timeout: 2h
audit:
  path: ./airlock-audit.jsonl
)yaml";

// The seed deployment's security_context.yaml, verbatim from DESIGN.md.
constexpr char kSeedForm[] = R"yaml(enforce:
  network: deny_all
  bind_address: unix:///run/goose/agent.sock
  allowed_syscalls: [read, write, open]
  max_memory_mb: 512
  credential_ttl: 300
)yaml";

// ---------------------------------------------------------------------------------------------
// Loading valid policies

TEST(PolicyLoader, LoadsDefaultProfile) {
  Result<Policy> policy = load_profile("default");
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->name, "default");
  EXPECT_TRUE(policy->extends.empty());
  EXPECT_EQ(policy->network.mode, NetworkMode::deny_all);
  EXPECT_TRUE(policy->process.syscalls.use_default);
  // The default is what stands between an agent and the user's secrets and system files.
  EXPECT_THAT(paths_of(policy->filesystem.read_only), ::testing::Contains("/usr"));
  EXPECT_THAT(paths_of(policy->filesystem.read_only), ::testing::Contains("/etc"));
  EXPECT_THAT(paths_of(policy->filesystem.hidden), ::testing::Contains("~/.ssh"));
  EXPECT_THAT(paths_of(policy->filesystem.hidden), ::testing::Contains("~/.aws"));
  EXPECT_THAT(paths_of(policy->filesystem.protect), ::testing::Contains(".git/hooks"));
  EXPECT_THAT(paths_of(policy->filesystem.protect), ::testing::Contains(".git/config"));
  ASSERT_FALSE(policy->filesystem.hidden.empty());
  EXPECT_EQ(policy->filesystem.hidden.front().where.file, "<profile default>");
  EXPECT_GT(policy->filesystem.hidden.front().where.line, 0);
}

// `airlock run` with no policy uses the copy compiled at build time; it must be exactly what the
// loader makes of profiles/default.yaml, source locations included.
TEST(PolicyLoader, CompiledDefaultPolicyIsTheLoadedProfile) {
  Result<Policy> loaded = load_profile("default");
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(compiled_default_policy() == *loaded);
  EXPECT_EQ(to_json(compiled_default_policy()), to_json(*loaded));
  Result<Policy> by_name = builtin_policy("default");
  ASSERT_TRUE(by_name);
  EXPECT_TRUE(*by_name == *loaded);
  EXPECT_FALSE(builtin_policy("no-such-profile"));
}

TEST(PolicyLoader, UnknownProfileIsAnError) {
  Result<Policy> policy = load_profile("no-such-profile");
  ASSERT_FALSE(policy);
  EXPECT_THAT(policy.error().message, HasSubstr("no-such-profile"));
}

TEST(PolicyLoader, DesignExampleLoadsWithEveryField) {
  Result<Policy> loaded = load(kDesignExample);
  ASSERT_TRUE(loaded) << loaded.error().message;
  Result<Policy> base = load_profile("default");
  ASSERT_TRUE(base) << base.error().message;
  const Policy& policy = *loaded;

  EXPECT_EQ(policy.version, 1);
  EXPECT_EQ(policy.name, "aider");
  EXPECT_THAT(policy.extends, ElementsAre("default"));
  EXPECT_EQ(policy.workspace, ".");
  EXPECT_EQ(policy.workspace_where.to_string(), "p.yaml:4:12");

  // Lists: the default's entries first, then the file's, in the file's order.
  const FilesystemPolicy& fs = policy.filesystem;
  ASSERT_EQ(fs.read_only.size(), base->filesystem.read_only.size() + 2);
  EXPECT_THAT(tail_paths(fs.read_only, 2), ElementsAre("/usr", "/etc"));
  EXPECT_EQ(fs.read_only[fs.read_only.size() - 2].where.to_string(), "p.yaml:6:15");
  EXPECT_EQ(fs.read_only.back().where.to_string(), "p.yaml:6:21");
  ASSERT_THAT(paths_of(fs.read_write), ElementsAre("/tmp"));
  EXPECT_EQ(fs.read_write.front().where.to_string(), "p.yaml:7:16");
  ASSERT_EQ(fs.hidden.size(), base->filesystem.hidden.size() + 6);
  EXPECT_THAT(tail_paths(fs.hidden, 6),
              ElementsAre("~/.ssh", "~/.aws", "~/.gnupg", "~/.netrc", "~/.docker", "~/.config/gh"));
  ASSERT_EQ(fs.protect.size(), base->filesystem.protect.size() + 1);
  EXPECT_EQ(fs.protect.back().path, ".git/hooks");
  EXPECT_EQ(fs.protect.back().where.to_string(), "p.yaml:9:13");

  EXPECT_EQ(policy.network.mode, NetworkMode::deny_all);
  EXPECT_EQ(policy.network.mode_where.to_string(), "p.yaml:11:9");
  EXPECT_TRUE(policy.network.allow.empty());
  EXPECT_TRUE(policy.network.deny.empty());
  ASSERT_THAT(paths_of(policy.network.unix_sockets), ElementsAre("/run/vectordb.sock"));
  EXPECT_EQ(policy.network.unix_sockets.front().where.to_string(), "p.yaml:12:18");
  EXPECT_TRUE(policy.network.deny_internal);

  EXPECT_TRUE(policy.publish.empty());
  EXPECT_TRUE(policy.credentials.empty());
  EXPECT_FALSE(policy.credential_ttl_seconds.has_value());

  EXPECT_TRUE(policy.process.syscalls.use_default);
  EXPECT_TRUE(policy.process.syscalls.allow.empty());
  EXPECT_EQ(policy.process.max_memory_mb, std::optional<uint64_t>(512));
  EXPECT_EQ(policy.process.max_memory_where.to_string(), "p.yaml:16:18");
  // Scalars override the profile underneath (the default says 4096).
  EXPECT_EQ(policy.process.max_pids, std::optional<uint32_t>(256));
  EXPECT_EQ(policy.process.max_pids_where.to_string(), "p.yaml:17:13");
  // ... and what the file does not set is inherited.
  EXPECT_EQ(policy.process.max_open_files, base->process.max_open_files);
  EXPECT_TRUE(policy.process.max_open_files.has_value());
  EXPECT_EQ(policy.process.timeout_seconds, std::optional<uint64_t>(2 * 3600));
  EXPECT_EQ(policy.audit_path, std::optional<std::string>("./airlock-audit.jsonl"));

  // Nothing in this example needs a feature `airlock run` lacks, except unix_sockets.
  std::vector<std::string> unsupported = unsupported_features(policy);
  ASSERT_EQ(unsupported.size(), 1U);
  EXPECT_THAT(unsupported[0], StartsWith("p.yaml:12:18: network unix_sockets"));
}

TEST(PolicyLoader, FullDesignExampleLoadsAndRunReportsWhatItCannotEnforce) {
  const std::string text = R"yaml(version: 1
name: aider
workspace: .
network:
  mode: deny_all
  allow:
    - api.anthropic.com:443
    - "*.githubusercontent.com:443"
    - db.internal:5432
    - localhost:5432
  internal: deny
publish:
  - unix: /run/airlock/aider.sock
    port: 8080
    mode: "0600"
credentials:
  - name: ANTHROPIC_API_KEY
    from: env:ANTHROPIC_API_KEY
    hosts: [api.anthropic.com]
    ttl: 300s
)yaml";
  Result<Policy> policy = load(text);
  ASSERT_TRUE(policy) << policy.error().message;
  ASSERT_EQ(policy->network.allow.size(), 4U);
  EXPECT_EQ(policy->network.allow[1].host, "*.githubusercontent.com");
  EXPECT_EQ(policy->network.allow[1].port, 443);
  EXPECT_EQ(policy->network.allow[1].where.to_string(), "p.yaml:8:7");
  EXPECT_EQ(policy->network.allow[3].host, "localhost");
  ASSERT_EQ(policy->publish.size(), 1U);
  EXPECT_EQ(policy->publish[0].unix_path, "/run/airlock/aider.sock");
  EXPECT_EQ(policy->publish[0].port, 8080);
  EXPECT_EQ(policy->publish[0].mode, 0600U);
  EXPECT_EQ(policy->publish[0].where.to_string(), "p.yaml:13:5");
  ASSERT_EQ(policy->credentials.size(), 1U);
  EXPECT_EQ(policy->credentials[0].name, "ANTHROPIC_API_KEY");
  EXPECT_EQ(policy->credentials[0].from, "env:ANTHROPIC_API_KEY");
  EXPECT_THAT(policy->credentials[0].hosts, ElementsAre("api.anthropic.com"));
  EXPECT_EQ(policy->credentials[0].ttl_seconds, 300U);

  std::vector<std::string> unsupported = unsupported_features(*policy);
  EXPECT_THAT(unsupported, ElementsAre(StartsWith("p.yaml:7:7: network allow"),
                                       StartsWith("p.yaml:17:5: credentials")));
}

TEST(PolicyLoader, PublishEntries) {
  Result<Policy> policy = load(R"yaml(version: 1
name: p
publish:
  - unix: /run/airlock/aider.sock
    port: 8080
    mode: "0660"
    uids: [1000, 1001]
  - unix: unix:///run/goose/agent.sock
)yaml");
  ASSERT_TRUE(policy) << policy.error().message;
  ASSERT_EQ(policy->publish.size(), 2U);
  EXPECT_EQ(policy->publish[0].mode, 0660U);
  EXPECT_THAT(policy->publish[0].uids, ElementsAre(1000U, 1001U));
  EXPECT_EQ(policy->publish[1].unix_path, "/run/goose/agent.sock");
  EXPECT_EQ(policy->publish[1].port, 0);
  EXPECT_EQ(policy->publish[1].mode, 0600U);
  EXPECT_THAT(unsupported_features(*policy), IsEmpty());
  nlohmann::json json = to_json(*policy);
  EXPECT_EQ(json["publish"][0]["uids"], nlohmann::json({1000, 1001}));
  EXPECT_TRUE(json["publish"][1]["port"].is_null());
}

TEST(PolicyLoader, MissingExtendsMeansExtendsDefault) {
  Result<Policy> policy = load(R"yaml(version: 1
name: mine
filesystem:
  read_only: [/srv/data]
  hidden: [~/.secret]
  protect: [Makefile]
)yaml");
  ASSERT_TRUE(policy) << policy.error().message;
  Result<Policy> base = load_profile("default");
  ASSERT_TRUE(base) << base.error().message;

  EXPECT_THAT(policy->extends, ElementsAre("default"));
  EXPECT_EQ(policy->name, "mine");
  std::vector<std::string> read_only = paths_of(base->filesystem.read_only);
  read_only.push_back("/srv/data");
  EXPECT_EQ(paths_of(policy->filesystem.read_only), read_only);
  std::vector<std::string> hidden = paths_of(base->filesystem.hidden);
  hidden.push_back("~/.secret");
  ASSERT_EQ(paths_of(policy->filesystem.hidden), hidden);
  std::vector<std::string> protect = paths_of(base->filesystem.protect);
  protect.push_back("Makefile");
  EXPECT_EQ(paths_of(policy->filesystem.protect), protect);
  // The inherited entries still point at the profile, the new ones at the file.
  EXPECT_EQ(policy->filesystem.hidden.front().where.file, "<profile default>");
  EXPECT_EQ(policy->filesystem.hidden.back().where.to_string(), "p.yaml:5:12");
  EXPECT_EQ(policy->process.max_pids, base->process.max_pids);
}

TEST(PolicyLoader, ExplicitEmptyExtendsStartsFromNothing) {
  Result<Policy> policy = load(R"yaml(version: 1
name: bare
extends: []
filesystem:
  read_only: [/srv/data]
)yaml");
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_TRUE(policy->extends.empty());
  EXPECT_THAT(paths_of(policy->filesystem.read_only), ElementsAre("/srv/data"));
  EXPECT_TRUE(policy->filesystem.hidden.empty());
  EXPECT_TRUE(policy->filesystem.protect.empty());
  EXPECT_TRUE(policy->filesystem.read_write.empty());
  EXPECT_FALSE(policy->process.max_pids.has_value());
  EXPECT_FALSE(policy->process.max_open_files.has_value());
}

TEST(PolicyLoader, PathsAreNormalised) {
  Result<Policy> policy = load(R"yaml(version: 1
name: paths
extends: []
filesystem:
  read_only: [/usr//share/./doc/, "~", ~/a//b/]
  protect: [./.git//hooks/]
)yaml");
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_THAT(paths_of(policy->filesystem.read_only), ElementsAre("/usr/share/doc", "~", "~/a/b"));
  EXPECT_THAT(paths_of(policy->filesystem.protect), ElementsAre(".git/hooks"));
}

TEST(PolicyLoader, DurationsAndSyscallListsParse) {
  Result<Policy> policy = load(R"yaml(version: 1
name: durations
process:
  timeout: 30m
  syscalls: [read, write, execve, brk, arch_prctl, mmap, munmap, mprotect, openat, close, newfstatat, pread64, access, set_tid_address, set_robust_list, rseq, prlimit64, getrandom, exit_group, fstat]
)yaml");
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->process.timeout_seconds, std::optional<uint64_t>(1800));
  EXPECT_FALSE(policy->process.syscalls.use_default);
  EXPECT_EQ(policy->process.syscalls.allow.size(), 20U);
  EXPECT_EQ(policy->process.syscalls.where.to_string(), "p.yaml:5:13");

  for (const auto& [text, seconds] : std::vector<std::pair<std::string, uint64_t>>{
           {"300", 300}, {"300s", 300}, {"5m", 300}, {"2h", 7200}, {"1d", 86400}}) {
    Result<Policy> timed = load("version: 1\nname: t\nprocess:\n  timeout: " + text + "\n");
    ASSERT_TRUE(timed) << text << ": " << timed.error().message;
    EXPECT_EQ(timed->process.timeout_seconds, std::optional<uint64_t>(seconds)) << text;
  }
}

// ---------------------------------------------------------------------------------------------
// The seed `enforce:` form

TEST(PolicyLoader, SeedFormWithTooSmallAllowlistNamesWhatIsMissing) {
  std::string message = load_error(kSeedForm);
  // allowed_syscalls' value is on line 4, column 21.
  EXPECT_THAT(message, StartsWith("p.yaml:4:21: this syscall allowlist cannot start any program: "
                                  "missing execve, brk, arch_prctl, mmap, "));
  for (std::string_view name : seccomp::kExecMinimum) {
    if (name == "read") continue;  // listed in the seed
    EXPECT_THAT(message, HasSubstr(std::string(name))) << "missing syscall not named";
  }
  EXPECT_THAT(message, Not(HasSubstr("missing read,")));
  EXPECT_THAT(message, Not(HasSubstr(", read,")));
  EXPECT_THAT(message, HasSubstr("never widens"));
}

TEST(PolicyLoader, SeedFormWithSufficientAllowlistLoads) {
  std::vector<std::string> names = exec_minimum_names();
  names.push_back("write");
  names.push_back("open");
  std::string text = kSeedForm;
  const std::string seed_list = "[read, write, open]";
  text.replace(text.find(seed_list), seed_list.size(), flow_list(names));

  Result<Policy> policy = load(text);
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->network.mode, NetworkMode::deny_all);
  EXPECT_EQ(policy->network.mode_where.to_string(), "p.yaml:2:12");
  EXPECT_FALSE(policy->process.syscalls.use_default);
  EXPECT_EQ(policy->process.syscalls.allow, names);
  EXPECT_EQ(policy->process.max_memory_mb, std::optional<uint64_t>(512));
  EXPECT_EQ(policy->process.max_memory_where.to_string(), "p.yaml:5:18");
  EXPECT_EQ(policy->credential_ttl_seconds, std::optional<uint64_t>(300));
  ASSERT_EQ(policy->publish.size(), 1U);
  EXPECT_EQ(policy->publish[0].unix_path, "/run/goose/agent.sock");
  EXPECT_EQ(policy->publish[0].port, 0);
  // The seed form has no `extends`, so it starts from the default like any other policy.
  EXPECT_THAT(policy->extends, ElementsAre("default"));
  EXPECT_FALSE(policy->filesystem.hidden.empty());

  std::vector<std::string> unsupported = unsupported_features(*policy);
  // credential_ttl is the default ttl of the policy's credentials (credentials/credential_vault),
  // and bind_address is a publish entry without a port (src/publish/).
  EXPECT_THAT(unsupported, IsEmpty());
}

TEST(PolicyLoader, SeedFormRejectsUnknownEnforceKey) {
  std::string message = load_error("enforce:\n  network: deny_all\n  max_memroy_mb: 512\n");
  EXPECT_EQ(message,
            "p.yaml:3:3: unknown key 'max_memroy_mb' in enforce; did you mean "
            "'max_memory_mb'?");
}

TEST(PolicyLoader, SeedFormRejectsBadBindAddress) {
  std::string message = load_error("enforce:\n  bind_address: tcp://0.0.0.0:80\n");
  EXPECT_THAT(message, StartsWith("p.yaml:2:17: bind_address 'tcp://0.0.0.0:80' is a TCP address"));
  EXPECT_THAT(message, HasSubstr("write a Unix socket such as unix:///run/agent/api.sock"));
  EXPECT_THAT(load_error("enforce:\n  bind_address: run/agent.sock\n"),
              StartsWith("p.yaml:2:17: bind_address must be an absolute socket path"));
}

// ---------------------------------------------------------------------------------------------
// Errors: each one line, located, with what to write instead

TEST(PolicyLoaderErrors, UnknownTopLevelKeySuggestsTheNearMiss) {
  EXPECT_EQ(load_error("version: 1\nname: x\nnetwrok:\n  mode: deny_all\n"),
            "p.yaml:3:1: unknown key 'netwrok' in the policy; did you mean 'network'?");
}

TEST(PolicyLoaderErrors, UnknownNestedKeySuggestsTheNearMiss) {
  EXPECT_EQ(
      load_error("version: 1\nname: x\nfilesystem:\n  read_only: [/usr]\n  hiden: [~/.ssh]\n"),
      "p.yaml:5:3: unknown key 'hiden' in filesystem; did you mean 'hidden'?");
  EXPECT_EQ(load_error("version: 1\nname: x\nprocess:\n    max_pid: 10\n"),
            "p.yaml:4:5: unknown key 'max_pid' in process; did you mean 'max_pids'?");
}

TEST(PolicyLoaderErrors, UnknownKeyFarFromAnyListsTheKnownKeys) {
  std::string message = load_error("version: 1\nname: x\nnetwork:\n  firewall: on\n");
  EXPECT_EQ(message,
            "p.yaml:4:3: unknown key 'firewall' in network; expected one of: mode, allow, deny, "
            "unix_sockets, internal, dns_upstream, max_connections, upstream_ca");
}

TEST(PolicyLoaderErrors, DuplicateKeys) {
  EXPECT_EQ(load_error("version: 1\nname: a\nname: b\n"),
            "p.yaml:3:1: duplicate key 'name' in the policy");
  EXPECT_EQ(load_error("version: 1\nname: a\nprocess:\n  max_pids: 10\n  max_pids: 20\n"),
            "p.yaml:5:3: duplicate key 'max_pids' in process");
}

TEST(PolicyLoaderErrors, WrongTypes) {
  // A list where one value is expected.
  EXPECT_EQ(load_error("version: 1\nname: [a, b]\n"),
            "p.yaml:2:7: name must be a single value, not a list or mapping");
  // A mapping where a list is expected.
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem:\n  read_only: {a: b}\n"),
              StartsWith("p.yaml:4:14: read_only must be a list"));
  // A scalar where a mapping is expected.
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem: /usr\n"),
              StartsWith("p.yaml:3:13: filesystem must be a mapping of key: value; keys: "
                         "read_only, read_write, hidden, protect"));
  // A mapping where a scalar list item is expected.
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem:\n  hidden:\n    - {a: b}\n"),
              StartsWith("p.yaml:5:7: hidden entry must be a single value"));
  // Not a number.
  EXPECT_THAT(load_error("version: 1\nname: x\nprocess:\n  max_pids: many\n"),
              StartsWith("p.yaml:4:13: max_pids must be a whole number"));
  EXPECT_THAT(load_error("version: 1\nname: x\nprocess:\n  max_pids: -5\n"),
              StartsWith("p.yaml:4:13: max_pids must be a whole number"));
}

TEST(PolicyLoaderErrors, VersionMustBeOne) {
  EXPECT_THAT(load_error("version: 2\nname: x\n"), StartsWith("p.yaml:1:10: version must be"));
  EXPECT_THAT(load_error("version: 0\nname: x\n"), StartsWith("p.yaml:1:10: version must be"));
  EXPECT_THAT(load_error("version: v1\nname: x\n"), StartsWith("p.yaml:1:10: version must be"));
  EXPECT_THAT(load_error("name: x\n"), HasSubstr("missing 'version: 1'"));
}

TEST(PolicyLoaderErrors, MissingNameIsAnErrorWithoutAProfile) {
  // The default profile supplies a name; without it, the file must.
  EXPECT_THAT(load_error("version: 1\nextends: []\n"), HasSubstr("missing 'name:'"));
}

TEST(PolicyLoaderErrors, NameCharacters) {
  for (const std::string name : {"\"my agent\"", "../x", "a/b", "-leading", "\"a;rm\"", "\"é\""}) {
    std::string message = load_error("version: 1\nname: " + name + "\n");
    EXPECT_THAT(message, StartsWith("p.yaml:2:7: name ")) << name;
    EXPECT_THAT(message, HasSubstr("letters, digits")) << name;
  }
  std::string too_long(65, 'a');
  EXPECT_THAT(load_error("version: 1\nname: " + too_long + "\n"), StartsWith("p.yaml:2:7: name "));
  EXPECT_TRUE(load("version: 1\nname: " + std::string(64, 'a') + "\n"));
  EXPECT_TRUE(load("version: 1\nname: My_agent-2.0\n"));
}

TEST(PolicyLoaderErrors, HostPathsMustBeAbsoluteOrHomeRelative) {
  EXPECT_EQ(load_error("version: 1\nname: x\nfilesystem:\n  read_only: [usr]\n"),
            "p.yaml:4:15: read_only entry 'usr' must be absolute (/...) or start with ~/");
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem:\n  hidden: [./.ssh]\n"),
              StartsWith("p.yaml:4:12: hidden entry './.ssh' must be absolute"));
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem:\n  hidden: [~root/.ssh]\n"),
              StartsWith("p.yaml:4:12: hidden entry '~root/.ssh' must be absolute"));
}

TEST(PolicyLoaderErrors, DotDotIsRefusedEverywhere) {
  EXPECT_EQ(load_error("version: 1\nname: x\nfilesystem:\n  read_only: [/usr/../etc]\n"),
            "p.yaml:4:15: path '/usr/../etc' must not contain '..'; write it directly");
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem:\n  hidden: [~/..]\n"),
              StartsWith("p.yaml:4:12: path '~/..' must not contain '..'"));
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem:\n  protect: [.git/../../x]\n"),
              StartsWith("p.yaml:4:13: path '.git/../../x' must not contain '..'"));
  EXPECT_THAT(load_error("version: 1\nname: x\nworkspace: ../other\n"),
              StartsWith("p.yaml:3:12: path '../other' must not contain '..'"));
  // A name that merely starts with two dots is fine.
  EXPECT_TRUE(load("version: 1\nname: x\nfilesystem:\n  read_only: [/srv/..data]\n"));
}

TEST(PolicyLoaderErrors, ProtectPathsMustBeWorkspaceRelative) {
  EXPECT_EQ(load_error("version: 1\nname: x\nfilesystem:\n  protect: [/etc/passwd]\n"),
            "p.yaml:4:13: protect entry '/etc/passwd' must be relative to the workspace, e.g. "
            ".git/hooks");
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem:\n  protect: [~/.bashrc]\n"),
              StartsWith("p.yaml:4:13: protect entry '~/.bashrc' must be relative"));
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem:\n  protect: [./]\n"),
              StartsWith("p.yaml:4:13: protect entry must name a path inside the workspace"));
}

TEST(PolicyLoaderErrors, BadDurations) {
  for (const std::string bad : {"2x", "0s", "0", "s", "-5m", "1.5h", "367d", "h2"}) {
    std::string message = load_error("version: 1\nname: x\nprocess:\n  timeout: " + bad + "\n");
    EXPECT_EQ(message,
              "p.yaml:4:12: process timeout must be a positive duration such as 300s, "
              "30m, 2h or 1d; got '" +
                  bad + "'")
        << bad;
  }
}

TEST(PolicyLoaderErrors, MaxMemoryOutOfRange) {
  EXPECT_EQ(load_error("version: 1\nname: x\nprocess:\n  max_memory_mb: 15\n"),
            "p.yaml:4:18: max_memory_mb must be between 16 and 1073741824; got 15");
  EXPECT_EQ(load_error("version: 1\nname: x\nprocess:\n  max_memory_mb: 1073741825\n"),
            "p.yaml:4:18: max_memory_mb must be between 16 and 1073741824; got 1073741825");
  EXPECT_THAT(load_error("version: 1\nname: x\nprocess:\n  max_memory_mb: 99999999999999999999\n"),
              StartsWith("p.yaml:4:18: max_memory_mb must be a whole number"));
  EXPECT_THAT(load_error("version: 1\nname: x\nprocess:\n  max_memory_mb: 512MB\n"),
              StartsWith("p.yaml:4:18: max_memory_mb must be a whole number"));
  Result<Policy> low = load("version: 1\nname: x\nprocess:\n  max_memory_mb: 16\n");
  ASSERT_TRUE(low) << low.error().message;
  EXPECT_EQ(low->process.max_memory_mb, std::optional<uint64_t>(16));
  EXPECT_TRUE(load("version: 1\nname: x\nprocess:\n  max_memory_mb: 1073741824\n"));
}

TEST(PolicyLoaderErrors, UnknownSyscallName) {
  EXPECT_EQ(load_error("version: 1\nname: x\nprocess:\n  syscalls: [read, fork_bomb]\n"),
            "p.yaml:4:20: 'fork_bomb' is not a syscall name known on x86_64 (see syscalls(2))");
  EXPECT_THAT(load_error("version: 1\nname: x\nprocess:\n  syscalls: permissive\n"),
              StartsWith("p.yaml:4:13: process syscalls must be 'default' or a list"));
}

// Inputs yaml-cpp would accept while dropping part of what the user wrote.
TEST(PolicyLoaderErrors, NothingWrittenIsSilentlyDropped) {
  EXPECT_THAT(load_error("version: 1\nname: a\n---\nversion: 1\nname: b\n"),
              StartsWith("p.yaml:4:1: a second YAML document (after '---') would be ignored"));
  EXPECT_THAT(load_error("version: 1\nname: x\nextends: [default, default]\n"),
              StartsWith("p.yaml:3:20: profile 'default' is already included"));
  // A bare trailing document marker adds nothing, so it is not an error.
  Result<Policy> trailing = load("version: 1\nname: x\n---\n");
  EXPECT_TRUE(trailing) << trailing.error().message;
  // Empty documents before a real second one do not hide it.
  EXPECT_THAT(load_error("version: 1\nname: a\n---\n---\nname: b\n"),
              StartsWith("p.yaml:5:1: a second YAML document (after '---') would be ignored"));
}

// yaml-cpp 0.7's LoadAll never returns on these (a token no rule consumes); found by the fuzzer.
TEST(PolicyLoaderErrors, TokensYamlCppCannotConsumeAreAnErrorNotAHang) {
  EXPECT_EQ(load_error(",\n"),
            "p.yaml:1:1: not valid YAML: unexpected character here; it starts no value");
  EXPECT_EQ(load_error("version: 1\nname: x\n---\n,\n"),
            "p.yaml:4:1: not valid YAML: unexpected character here; it starts no value");
}

TEST(PolicyLoaderErrors, OtherValueChecks) {
  EXPECT_THAT(load_error("version: 1\nname: x\nnetwork:\n  mode: allow_all\n"),
              StartsWith("p.yaml:4:9: network mode 'allow_all' is unknown"));
  EXPECT_THAT(load_error("version: 1\nname: x\nnetwork:\n  internal: maybe\n"),
              StartsWith("p.yaml:4:13: network internal must be deny or allow"));
  EXPECT_THAT(load_error("version: 1\nname: x\nnetwork:\n  allow: [example.com]\n"),
              StartsWith("p.yaml:4:11: 'example.com' has no port"));
  EXPECT_THAT(load_error("version: 1\nname: x\nextends: [nope]\n"),
              StartsWith("p.yaml:3:11: unknown profile 'nope'; built-in profiles: "));
  EXPECT_THAT(load_error("version: 1\nname: x\npublish:\n  - unix: tcp://127.0.0.1:8080\n"),
              StartsWith("p.yaml:4:11: publish unix 'tcp://127.0.0.1:8080' is a TCP address: "
                         "airlock never opens a TCP port on the host"));
  EXPECT_THAT(load_error("enforce:\n  bind_address: 127.0.0.1:8080\n"),
              StartsWith("p.yaml:2:17: bind_address '127.0.0.1:8080' is a TCP address"));
  EXPECT_THAT(load_error("version: 1\nname: x\npublish:\n  - unix: /run/a.sock\n"
                         "  - {unix: /run/a.sock, port: 80}\n"),
              StartsWith("p.yaml:5:5: publish /run/a.sock is already published at p.yaml:4:5"));
  EXPECT_THAT(load_error("version: 1\nname: x\npublish:\n  - {unix: /run/a.sock, port: 80}\n"
                         "  - {unix: /run/b.sock, port: 80}\n"),
              StartsWith("p.yaml:5:5: port 80 is already published at p.yaml:4:5"));
  EXPECT_THAT(
      load_error("version: 1\nname: x\npublish:\n  - unix: /run/" + std::string(110, 'a') + "\n"),
      HasSubstr("is longer than a Unix socket path may be (107 bytes)"));
  EXPECT_THAT(load_error("version: 1\nname: x\npublish:\n  - {unix: /r/a.sock, uids: [-1]}\n"),
              StartsWith("p.yaml:4:30: "));
  EXPECT_THAT(load_error("version: 1\nname: x\npublish:\n  - unix: /run/a.sock\n    port: 80\n"
                         "    mode: \"0999\"\n"),
              StartsWith("p.yaml:6:11: mode must be octal permissions"));
  EXPECT_THAT(load_error("version: 1\nname: x\ncredentials:\n  - name: K\n    from: vault:k\n"
                         "    hosts: [a.example]\n"),
              StartsWith("p.yaml:5:11: credential from must be env:VARIABLE or file:/path"));
}

TEST(PolicyLoaderErrors, InvalidYaml) {
  // The location is yaml-cpp's mark for the problem, 1-based like every other message.
  EXPECT_THAT(load_error("version: 1\nname: x\nfilesystem:\n  read_only: [/usr, /etc\n"),
              StartsWith("p.yaml:5:1: not valid YAML: "));
  EXPECT_THAT(load_error("version: 1\n  name: x\n"), StartsWith("p.yaml:2:7: not valid YAML: "));
  EXPECT_THAT(load_error("version: 1\nname: x\n  bad: 1\n"),
              StartsWith("p.yaml:3:6: not valid YAML: "));
  EXPECT_THAT(load_error("version: 1\n- item\n"), StartsWith("p.yaml:2:1: not valid YAML: "));
  EXPECT_THAT(load_error("version: 1\nname: x\nkey: ]\n"),
              StartsWith("p.yaml:3:6: not valid YAML: "));
}

TEST(PolicyLoaderErrors, EmptyOrNonMappingDocument) {
  EXPECT_EQ(load_error(""),
            "p.yaml:1:1: the policy is empty; start with 'version: 1' and 'name: ...'");
  EXPECT_THAT(load_error("# nothing but a comment\n"),
              StartsWith("p.yaml:1:1: the policy is empty"));
  EXPECT_THAT(load_error("---\n...\n"), HasSubstr("the policy is empty"));
  EXPECT_THAT(load_error("just a string\n"),
              StartsWith("p.yaml:1:1: the policy must be a mapping of key: value"));
  EXPECT_THAT(load_error("- version: 1\n"),
              StartsWith("p.yaml:1:1: the policy must be a mapping of key: value"));
}

TEST(PolicyLoaderErrors, EveryErrorIsExactlyOneLocatedLine) {
  const std::vector<std::string> bad_inputs = {
      "",
      "\n\n",
      "[",
      "{",
      "version: 1\nname: x\nnetwrok: {}\n",
      "version: 1\nname: x\nfilesystem:\n  read_only: [usr]\n",
      "version: 1\nname: x\nfilesystem:\n  read_only: |\n    multi\n    line\n",
      "version: 2\n",
      "enforce:\n  allowed_syscalls: [read]\n",
      "enforce: [1, 2]\n",
      "version: 1\nname: x\nversion: 1\n",
      "\t- x\n",
      "version: 1\nname: x\nprocess:\n  max_pids: 1\n",
      "version: 1\nname: x\nprocess:\n  timeout: 2x\n",
      "version: 1\nname: x\nprocess:\n  syscalls: [read]\n",
      "version: 1\nname: x\nnetwork:\n  allow: [\"*.*:443\"]\n",
      "version: 1\nname: x\nextends: [nope]\n",
      "version: 1\nname: x\nfilesystem:\n  protect: [/etc]\n",
      "version: 1\nname: \"\"\n",
      "version: 1\nname: x\npublish:\n  - port: 80\n",
      "version: 1\nname: x\ncredentials:\n  - name: K\n",
      "name: x\n",
  };
  for (const std::string& text : bad_inputs) {
    Result<Policy> policy = load(text);
    ASSERT_FALSE(policy) << "loaded: " << text;
    const std::string& message = policy.error().message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "multi-line error: " << message;
    EXPECT_EQ(message.find('\r'), std::string::npos) << message;
    EXPECT_THAT(message, ::testing::MatchesRegex("p\\.yaml:[0-9]+:[0-9]+: .+")) << message;
  }
}

// Errors that quote what the user wrote must not let that text break the one-line contract
// (a YAML "\n" escape or a block scalar puts a newline into a value or a key).
TEST(PolicyLoaderErrors, ErrorsQuotingUserTextStayOneLine) {
  const std::vector<std::string> bad_inputs = {
      "version: 1\nname: |\n  multi\n  line\n",
      "version: 1\nname: x\nprocess:\n  timeout: |\n    2h\n    3h\n",
      "version: 1\nname: x\nnetwork:\n  allow: [\"a\\nb:443\"]\n",
      "version: 1\nname: x\nprocess:\n  syscalls: [\"read\\nwrite\"]\n",
      "version: 1\nname: x\nextends: [\"de\\nfault\"]\n",
      "version: 1\nname: x\n\"multi\\nline key\": 1\n",
      "version: 1\nname: x\nfilesystem:\n  protect: [\"/a\\nb\"]\n",
      "version: 1\nname: x\nfilesystem:\n  hidden: [\"a\\nb\"]\n",
  };
  for (const std::string& text : bad_inputs) {
    Result<Policy> policy = load(text);
    ASSERT_FALSE(policy) << "loaded: " << text;
    const std::string& message = policy.error().message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "multi-line error for input:\n"
                                                     << text << "message:\n"
                                                     << message;
    EXPECT_THAT(message, StartsWith("p.yaml:"));
  }
}

TEST(PolicyLoaderErrors, MissingFileNamesThePath) {
  const std::string path = "/nonexistent-airlock-test/dir/policy.yaml";
  Result<Policy> policy = load_policy_file(path);
  ASSERT_FALSE(policy);
  EXPECT_THAT(policy.error().message, StartsWith(path + ":1:1: cannot open " + path));
  EXPECT_EQ(policy.error().message.find('\n'), std::string::npos);
}

TEST(PolicyLoader, LoadsFromFileAndLocatesErrorsInIt) {
  char path[] = "/tmp/airlock-policy-test-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "version: 1\nname: from-file\nprocess:\n  max_pids: 3\n";
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  Result<Policy> policy = load_policy_file(path);
  ::unlink(path);
  ASSERT_FALSE(policy);
  EXPECT_THAT(policy.error().message,
              StartsWith(std::string(path) + ":4:13: max_pids must be between 8 and"));
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON and the policy hash

TEST(PolicyJson, HashIsStableAndTracksEveryValue) {
  Result<Policy> first = load(kDesignExample);
  Result<Policy> second = load(kDesignExample);
  ASSERT_TRUE(first && second);
  const std::string hash = policy_sha256(*first);
  EXPECT_THAT(hash, ::testing::MatchesRegex("[0-9a-f]{64}"));
  EXPECT_EQ(hash, policy_sha256(*second));

  // Formatting and comments do not change what the policy means, so they do not change the hash.
  std::string reformatted = kDesignExample;
  reformatted.replace(reformatted.find("max_pids: 256"), 13, "max_pids:    256   # tuned");
  Result<Policy> third = load(reformatted);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(policy_sha256(*third), hash);

  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"max_pids: 256", "max_pids: 257"},
           {"name: aider", "name: aider2"},
           {"timeout: 2h", "timeout: 3h"},
           {"[/usr, /etc]", "[/usr, /etc, /srv]"},
           {"internal: deny", "internal: allow"},
           {"./airlock-audit.jsonl", "./other.jsonl"},
       }) {
    std::string changed = kDesignExample;
    ASSERT_NE(changed.find(from), std::string::npos) << from;
    changed.replace(changed.find(from), from.size(), to);
    Result<Policy> policy = load(changed);
    ASSERT_TRUE(policy) << policy.error().message;
    EXPECT_NE(policy_sha256(*policy), hash) << "hash ignores the change " << from << " -> " << to;
  }
}

// The hash is SHA-256 of the canonical JSON, as coreutils' sha256sum computes it, so an auditor
// can recompute it from the "policy" member of `airlock check --json` output.
TEST(PolicyJson, HashIsTheSha256OfTheCanonicalJson) {
  Result<Policy> policy = load(kDesignExample);
  ASSERT_TRUE(policy) << policy.error().message;
  char path[] = "/tmp/airlock-canonical-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string canonical = to_json(*policy).dump();
  ASSERT_EQ(::write(fd, canonical.data(), canonical.size()),
            static_cast<ssize_t>(canonical.size()));
  ::close(fd);
  FILE* sha256sum = ::popen(("sha256sum " + std::string(path)).c_str(), "r");
  ASSERT_NE(sha256sum, nullptr);
  char line[128] = {};
  ASSERT_NE(::fgets(line, sizeof line, sha256sum), nullptr);
  ::pclose(sha256sum);
  ::unlink(path);
  EXPECT_EQ(policy_sha256(*policy), std::string(line, 64));
}

TEST(PolicyJson, HasTheDocumentedShape) {
  Result<Policy> policy = load(kDesignExample);
  ASSERT_TRUE(policy) << policy.error().message;
  nlohmann::json json = to_json(*policy);
  for (const char* key : {"version", "name", "extends", "workspace", "filesystem", "network",
                          "publish", "process", "credentials", "credential_ttl_seconds", "audit"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(json["version"], 1);
  EXPECT_EQ(json["name"], "aider");
  EXPECT_EQ(json["extends"], nlohmann::json::array({"default"}));
  EXPECT_EQ(json["filesystem"]["read_write"], nlohmann::json::array({"/tmp"}));
  EXPECT_EQ(json["filesystem"]["hidden"].size(), policy->filesystem.hidden.size());
  ASSERT_FALSE(json["filesystem"]["protect"].empty());
  EXPECT_EQ(json["filesystem"]["protect"].back(), ".git/hooks");
  EXPECT_EQ(json["network"]["mode"], "deny_all");
  EXPECT_EQ(json["network"]["internal"], "deny");
  EXPECT_EQ(json["network"]["unix_sockets"], nlohmann::json::array({"/run/vectordb.sock"}));
  EXPECT_EQ(json["process"]["syscalls"], "default");
  EXPECT_EQ(json["process"]["max_memory_mb"], 512);
  EXPECT_EQ(json["process"]["max_pids"], 256);
  EXPECT_EQ(json["process"]["timeout_seconds"], 7200);
  EXPECT_TRUE(json["credential_ttl_seconds"].is_null());
  EXPECT_EQ(json["audit"]["path"], "./airlock-audit.jsonl");

  // Round trip through text: the dump parses back to the same document.
  EXPECT_EQ(nlohmann::json::parse(json.dump()), json);
}

TEST(PolicyJson, SeedFormFieldsAppear) {
  std::vector<std::string> names = exec_minimum_names();
  std::string text = std::string(kSeedForm);
  text.replace(text.find("[read, write, open]"), 19, flow_list(names));
  Result<Policy> policy = load(text);
  ASSERT_TRUE(policy) << policy.error().message;
  nlohmann::json json = to_json(*policy);
  EXPECT_EQ(json["credential_ttl_seconds"], 300);
  EXPECT_EQ(json["process"]["syscalls"], nlohmann::json(names));
  ASSERT_EQ(json["publish"].size(), 1U);
  EXPECT_EQ(json["publish"][0]["unix"], "/run/goose/agent.sock");
  EXPECT_EQ(json["publish"][0]["mode"], "0600");
}

}  // namespace
}  // namespace airlock::policy

namespace airlock::policy {
namespace {

// Audit events and the policy hash are JSON; a non-UTF-8 byte must be an input error, not an
// abort later (found by the policy loader fuzzer).
TEST(PolicyLoaderErrors, InvalidUtf8IsAnErrorWithLocation) {
  Result<Policy> policy = load_policy_text(
      "version: 1\nname: x\naudit:\n  path: a\xff"
      "b\n",
      "p.yaml");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().message, "p.yaml:4:9: audit path must be valid UTF-8 text");
  Result<Policy> overlong =
      load_policy_text("version: 1\nname: x\naudit:\n  path: \xc0\xaf\n", "p.yaml");
  ASSERT_FALSE(overlong);
  Result<Policy> fine =
      load_policy_text("version: 1\nname: x\naudit:\n  path: caf\xc3\xa9\n", "p.yaml");
  EXPECT_TRUE(fine) << fine.error().message;
}

}  // namespace
}  // namespace airlock::policy
