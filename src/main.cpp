// airlock: a zero-trust runtime for AI agents. This file only parses arguments.
//
// Each command is one entry of kCommands: its name, its one-line description and a function
// that adds its options to its CLI11 subcommand and returns what runs it. When the first
// argument names a command, only that one is built: CLI11 builds every option with several
// allocations, and an orchestrator calling `airlock exec` in a loop should not pay for the
// options of twenty commands it did not ask for (bench/exec.sh). Otherwise (`airlock`,
// `airlock --help`, a typo) all of them are, so that help and errors list them all.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "supervisor/supervisor.h"

namespace {

namespace cli = airlock::cli;
using Runner = std::function<int()>;

// What `run` and `session start` share: the policy and what the command line adds to it.
void add_sandbox_options(CLI::App& command, cli::RunArguments& run) {
  command
      .add_option("--policy", run.policy_file, "Policy file (YAML, v1 or security_context form)")
      ->check(CLI::ExistingFile);
  command.add_option("--profile", run.profile, "Built-in profile to use instead of a file");
  command.add_option("--workspace", run.workspace,
                     "Writable directory (default: the policy's, usually .)");
  command.add_option("--audit", run.audit_path, "Append JSON Lines audit events to FILE");
  command.add_option("--name", run.name,
                     "Name for ps, stop, exec and logs (default: POLICY-ID); unique per user");
  command.add_flag("--verbose", run.verbose, "Say which layers were enforced");
  command.add_flag("--allow-degraded", run.allow_degraded,
                   "Run even if a layer cannot be enforced");
  command
      .add_option("--allow", run.allow,
                  "Allow HOST:PORT through the egress proxy (repeatable; implies allowlist)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command.add_option("--dns-upstream", run.dns_upstream,
                     "Resolver for allowed names, IP[:PORT] (default: the host's)");
  command
      .add_option("--credential", run.credentials,
                  "NAME=HOST[,HOST]: the proxy uses $NAME for HOST; the sandbox gets a "
                  "placeholder (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// The trailing CMD [ARGS...] of run, observe and exec.
void add_command_argument(CLI::App& command, std::vector<std::string>& argv) {
  command.add_option("command", argv, "CMD [ARGS...] (after --)")->required();
  command.prefix_command(false);
}

Runner define_run(CLI::App& command) {
  auto run = std::make_shared<cli::RunArguments>();
  add_sandbox_options(command, *run);
  add_command_argument(command, run->command);
  return [run] { return cli::run_command(*run); };
}

Runner define_check(CLI::App& command) {
  auto check = std::make_shared<cli::CheckArguments>();
  command.add_option("policy", check->policy_file, "Policy file")->required();
  command.add_flag("--json", check->json, "Print the findings and the resolved policy as JSON");
  command.add_flag("--strict", check->strict, "Exit 1 when there are warnings");
  return [check] { return cli::check_command(*check); };
}

Runner define_explain(CLI::App& command) {
  auto explain = std::make_shared<cli::ExplainArguments>();
  command.add_option("policy", explain->policy_file, "Policy file")->check(CLI::ExistingFile);
  command.add_option("--profile", explain->profile, "Built-in profile instead of a file");
  command.add_flag("--json", explain->json, "Print the table as JSON (docs/explain.schema.json)");
  return [explain] { return cli::explain_command(*explain); };
}

Runner define_suggest(CLI::App& command) {
  auto suggest = std::make_shared<cli::SuggestArguments>();
  command.add_option("audit", suggest->audit_files, "Audit logs (JSON Lines)")
      ->required()
      ->check(CLI::ExistingFile);
  command.add_option("--base", suggest->base,
                     "Profile name or policy file to start from (default: default)");
  command
      .add_option("--collapse", suggest->collapse,
                  "Use *.PARENT when N or more sibling names were seen (N >= 2)")
      ->check(CLI::Range(2, 1000000));
  return [suggest] { return cli::suggest_command(*suggest); };
}

Runner define_audit(CLI::App& command) {
  command.require_subcommand(1);
  auto verify = std::make_shared<cli::AuditVerifyArguments>();
  CLI::App* verify_app = command.add_subcommand("verify", "Check an audit log's hash chain");
  verify_app->add_option("file", verify->file, "Audit log")->required();
  verify_app->add_option(
      "--expect-last", verify->expect_last,
      "A last sha256 printed (and kept elsewhere) earlier: fail unless a line still has it");
  return [verify] { return cli::audit_verify_command(*verify); };
}

Runner define_observe(CLI::App& command) {
  auto observe = std::make_shared<cli::ObserveArguments>();
  command.add_option("--policy", observe->policy_file, "Base policy (default: the default)")
      ->check(CLI::ExistingFile);
  command.add_option("--workspace", observe->workspace, "Writable directory");
  command.add_option("--audit", observe->audit_path, "Append the recording to FILE");
  command.add_option("-o,--output", observe->output, "Write the suggested policy to FILE");
  command.add_option("--dns-upstream", observe->dns_upstream,
                     "Resolver for allowed names, IP[:PORT] (default: the host's)");
  command.add_flag("--forward", observe->forward,
                   "Allow what is attempted (still through the proxy and its checks)");
  command.add_flag("--verbose", observe->verbose, "Say which layers were enforced");
  add_command_argument(command, observe->command);
  return [observe] { return cli::observe_command(*observe); };
}

Runner define_profiles(CLI::App& /*command*/) {
  return [] { return cli::profiles_command(); };
}

void add_stop_options(CLI::App& command, cli::StopArguments& stop, const char* what) {
  command.add_option("name", stop.name, what)->required();
  command.add_option("--grace", stop.grace, "SIGTERM, then SIGKILL after this long (10s)");
}

Runner define_session(CLI::App& command) {
  command.require_subcommand(1);
  auto start = std::make_shared<cli::RunArguments>();
  CLI::App* start_app = command.add_subcommand(
      "start", "Start a session; prints its name once it is ready for airlock exec");
  add_sandbox_options(*start_app, *start);
  auto stop = std::make_shared<cli::StopArguments>();
  CLI::App* stop_app = command.add_subcommand("stop", "Stop a session");
  add_stop_options(*stop_app, *stop, "Session name");
  return [start, stop, start_app] {
    return start_app->parsed() ? cli::session_start_command(*start) : cli::stop_command(*stop);
  };
}

Runner define_stop(CLI::App& command) {
  auto stop = std::make_shared<cli::StopArguments>();
  add_stop_options(command, *stop, "Sandbox name (airlock ps)");
  return [stop] { return cli::stop_command(*stop); };
}

Runner define_exec(CLI::App& command) {
  auto exec = std::make_shared<cli::ExecArguments>();
  command.add_option("name", exec->name, "Session name")->required();
  command.add_flag("--json", exec->json,
                   "Print {stdout, stderr, exit_code, signal, timed_out, duration_ms, truncated} "
                   "(1 MiB per stream) instead of streaming");
  command.add_option("--timeout", exec->timeout, "Kill it after this long (30s, 500ms, 2m)");
  command.add_option("--cwd", exec->cwd, "Directory inside the sandbox (default: the session's)");
  command.add_option("-e,--env", exec->environment, "K=V for this command (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_command_argument(command, exec->command);
  return [exec] { return cli::exec_command(*exec); };
}

Runner define_logs(CLI::App& command) {
  auto logs = std::make_shared<cli::LogsArguments>();
  command.add_option("name", logs->name, "Sandbox name (default: the only one running)");
  command.add_flag("-f,--follow", logs->follow, "Keep printing new events until it ends");
  command.add_flag("--json", logs->json, "Print the events as recorded (JSON Lines)");
  return [logs] { return cli::logs_command(*logs); };
}

Runner define_mcp(CLI::App& command) {
  auto mcp = std::make_shared<cli::McpArguments>();
  command.add_option("--policy", mcp->policy_file, "Policy file (default: the default policy)")
      ->check(CLI::ExistingFile);
  command.add_option("--profile", mcp->profile, "Built-in profile to use instead of a file");
  command.add_option("--workspace", mcp->workspace,
                     "Writable directory (default: the current directory)");
  return [mcp] { return cli::mcp_command(*mcp); };
}

Runner define_revoke(CLI::App& command) {
  auto revoke = std::make_shared<cli::RevokeArguments>();
  command.add_option("name", revoke->name, "Sandbox name (airlock ps)")->required();
  command.add_option("credential", revoke->credential, "Credential name (as in the policy)")
      ->required();
  return [revoke] { return cli::revoke_command(*revoke); };
}

Runner define_up(CLI::App& command) {
  auto up = std::make_shared<cli::StackArguments>();
  command.add_option("-f,--file", up->file, "Stack file (stack.yaml)")->required();
  command.add_option("--audit", up->audit_path, "Append every sandbox's audit events to FILE");
  command.add_option("--wait", up->wait,
                     "How long a linked-to sandbox may take to listen on its ports (60s)");
  return [up] { return cli::up_command(*up); };
}

Runner define_down(CLI::App& command) {
  auto down = std::make_shared<cli::StackArguments>();
  command.add_option("-f,--file", down->file, "Stack file (stack.yaml)")->required();
  command.add_option("--grace", down->grace, "SIGTERM, then SIGKILL after this long (10s)");
  return [down] { return cli::down_command(*down); };
}

Runner define_ps(CLI::App& command) {
  auto ps = std::make_shared<cli::PsArguments>();
  command.add_flag("--json", ps->json, "Print what each sandbox reports, as JSON");
  return [ps] { return cli::ps_command(*ps); };
}

struct Command {
  const char* name;
  const char* description;
  Runner (*define)(CLI::App& command);
};

// In the order `airlock --help` lists them.
constexpr Command kCommands[] = {
    {"run", "Run CMD inside a sandbox", define_run},
    {"check", "Validate a policy and print what it allows", define_check},
    {"explain", "Print the capability table: what a policy grants and which layer enforces it",
     define_explain},
    {"suggest", "Print the minimal policy that allows what audit recordings show", define_suggest},
    {"audit", "Work with audit logs", define_audit},
    {"observe", "Run CMD and record what it tries to reach (denied unless --forward)",
     define_observe},
    {"profiles", "List the built-in profiles (for --profile and extends)", define_profiles},
    {"session", "Sandboxes that stay up with no command, for airlock exec", define_session},
    {"stop", "Stop a running sandbox (run or session)", define_stop},
    {"exec", "Run CMD inside a session, confined exactly like it; its exit status passes through",
     define_exec},
    {"logs", "A running sandbox's events (also without an audit file): the last 1000, or -f",
     define_logs},
    {"mcp", "A Model Context Protocol server on stdio whose tools run in one session", define_mcp},
    {"revoke", "Refuse a credential's placeholder in a running sandbox from now on", define_revoke},
    {"up", "Start a stack's sandboxes, each in its own security domain, wired only by its links",
     define_up},
    {"down", "Stop a stack's running sandboxes, those that link first", define_down},
    {"ps", "List your running sandboxes", define_ps},
};

int run_main(int argc, char** argv) {
  CLI::App app{"airlock: run an AI agent whose only way out is airlock's policy"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "airlock 0.1.0");

  const std::string_view first = argc > 1 ? argv[1] : "";
  bool named = false;
  for (const Command& command : kCommands) named = named || first == command.name;
  std::vector<std::pair<CLI::App*, Runner>> defined;
  for (const Command& command : kCommands) {
    if (named && first != command.name) continue;
    CLI::App* subcommand = app.add_subcommand(command.name, command.description);
    defined.emplace_back(subcommand, command.define(*subcommand));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    fmt::print(stderr, "airlock: {}\n", error.what());
    return airlock::supervisor::kExitBadInput;
  }
  for (const auto& [subcommand, runner] : defined) {
    if (subcommand->parsed()) return runner();
  }
  return airlock::supervisor::kExitBadInput;  // require_subcommand(1) makes this unreachable
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& error) {
    // Nothing below is meant to throw; if something does, say so instead of aborting.
    // stdio, not fmt: a handler in main must not throw in turn.
    (void)std::fprintf(stderr, "airlock: internal error: %s\n", error.what());
    return airlock::supervisor::kExitSetupFailed;
  } catch (...) {
    (void)std::fputs("airlock: internal error: an exception of unknown type\n", stderr);
    return airlock::supervisor::kExitSetupFailed;
  }
}
