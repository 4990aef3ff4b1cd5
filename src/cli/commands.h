// One function per subcommand; each returns the process exit code. Argument parsing only
// lives in main.cpp; the work lives in policy/, sandbox/ and supervisor/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "egress/destination_policy.h"
#include "policy/policy.h"
#include "publish/publish_server.h"

namespace airlock::cli {

struct RunArguments {
  std::optional<std::string> policy_file;
  std::optional<std::string> profile;
  std::optional<std::string> workspace;
  std::optional<std::string> audit_path;
  bool verbose = false;
  bool allow_degraded = false;
  std::vector<std::string> allow;  // --allow HOST:PORT, added to the policy's allowlist
  std::optional<std::string> dns_upstream;
  std::vector<std::string> credentials;  // --credential NAME=HOST[,HOST...]
  std::vector<std::string> command;
  std::optional<std::string> name;  // --name: the control socket's (default: POLICY-ID)
  bool session = false;             // `session start`: no command; return once it is ready
  // `airlock up`: each sandbox goes on in the background (a command too) once it has started,
  // its stdout and stderr (and the supervisor's own messages) in `output_path`; its links.
  bool detached = false;
  std::optional<std::string> output_path;
  std::vector<publish::PublishTarget> links;
};

int run_command(const RunArguments& arguments);
// What run and observe share once the policy is loaded: command-line additions, credentials,
// the launch plan, the supervisor.
int run_policy(policy::Policy policy, const RunArguments& arguments, egress::ObserveMode observe);

struct CheckArguments {
  std::string policy_file;
  bool json = false;    // findings (and the resolved policy) as JSON
  bool strict = false;  // warnings fail too (exit 1)
};

// Validates, then lints: exit 0 clean, 1 warnings under --strict, 2 errors.
int check_command(const CheckArguments& arguments);

struct ExplainArguments {
  std::optional<std::string> policy_file;
  std::optional<std::string> profile;
  bool json = false;
};

// The capability table: what the policy grants, and which layer enforces each row.
int explain_command(const ExplainArguments& arguments);

struct SuggestArguments {
  std::vector<std::string> audit_files;
  std::optional<std::string> base;  // a profile name or a policy file (default: default)
  std::optional<uint32_t> collapse;
};

// The minimal policy that would have allowed what the recordings show, on stdout.
int suggest_command(const SuggestArguments& arguments);

struct AuditVerifyArguments {
  std::string file;
  // A last sha256 shipped elsewhere earlier: the log must still contain that line.
  std::optional<std::string> expect_last;
};

// Checks a log's hash chain; prints the first line where it breaks.
int audit_verify_command(const AuditVerifyArguments& arguments);

struct ObserveArguments {
  std::optional<std::string> policy_file;  // BASE (default: the embedded default policy)
  std::optional<std::string> workspace;
  std::optional<std::string> audit_path;
  std::optional<std::string> output;  // -o: the suggested policy
  std::optional<std::string> dns_upstream;
  bool forward = false;  // allow what is attempted (through the proxy, every check kept)
  bool verbose = false;
  std::vector<std::string> command;
};

// Runs CMD and records what it tries: network attempts, programs executed.
int observe_command(const ObserveArguments& arguments);

int profiles_command();

// `airlock session start`: a sandbox that stays up with no command; prints its name once ready.
int session_start_command(RunArguments arguments);

// "10s", "500ms", "2m", "1h" or plain seconds ("5"); nullopt when it is none of those.
std::optional<uint64_t> parse_duration_ms(const std::string& text);
// A duration option (--grace, --wait) in milliseconds, `fallback` when it was not given; the
// Error is the line to print ("--grace '5x' is not a duration: write e.g. 10s, 500ms, 2m").
Result<uint64_t> duration_option(const std::optional<std::string>& text, const std::string& option,
                                 uint64_t fallback);

struct StopArguments {
  std::string name;
  std::optional<std::string> grace;  // a duration: 10s, 500ms, 2m (default 10s)
};
// `airlock stop NAME` and `airlock session stop NAME`: SIGTERM, then SIGKILL after the grace.
int stop_command(const StopArguments& arguments);
// The same for one sandbox, returning once its supervisor has torn everything down.
Status stop_and_wait(const std::string& name, uint64_t grace_ms);

struct RevokeArguments {
  std::string name;
  std::string credential;
};
// `airlock revoke NAME CREDENTIAL`: the credential's placeholder is refused in that sandbox from
// now on (audited there as credential.revoke, each later use as credential.expired).
int revoke_command(const RevokeArguments& arguments);

struct StackArguments {
  std::string file;
  std::optional<std::string> audit_path;  // every sandbox's audit log (one chained file)
  std::optional<std::string> wait;        // up: how long a linked-to sandbox may take to listen
  std::optional<std::string> grace;       // down: as for stop
};
// `airlock up -f stack.yaml`: every sandbox, link targets first, each listening on its linked
// ports before the ones that link to it start. Nothing is left half-up: on a failure the ones
// already started are stopped again.
int up_command(const StackArguments& arguments);
// `airlock down -f stack.yaml`: the stack's running sandboxes, linkers first.
int down_command(const StackArguments& arguments);

struct ExecArguments {
  std::string name;
  bool json = false;
  std::optional<std::string> timeout;  // a duration
  std::optional<std::string> cwd;
  std::vector<std::string> environment;  // -e K=V
  std::vector<std::string> command;
};
// Runs CMD inside session NAME with exactly its confinement; its exit status passes through.
int exec_command(const ExecArguments& arguments);

struct LogsArguments {
  std::optional<std::string> name;  // default: the only running sandbox
  bool follow = false;
  bool json = false;
};
// A sandbox's events (the last 1000, then with -f every new one until it ends).
int logs_command(const LogsArguments& arguments);

struct PsArguments {
  bool json = false;
};
int ps_command(const PsArguments& arguments);

struct McpArguments {
  std::optional<std::string> policy_file;
  std::optional<std::string> profile;
  std::optional<std::string> workspace;
};
// A Model Context Protocol server on stdio backed by one session (docs/mcp.md).
int mcp_command(const McpArguments& arguments);

}  // namespace airlock::cli
