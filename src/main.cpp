// airlock: a zero-trust runtime for AI agents. This file only parses arguments.
#include <CLI/CLI.hpp>

#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "supervisor/supervisor.h"

namespace {

// What `run` and `session start` share: the policy and what the command line adds to it.
void add_sandbox_options(CLI::App* command, airlock::cli::RunArguments& run) {
  command
      ->add_option("--policy", run.policy_file, "Policy file (YAML, v1 or security_context form)")
      ->check(CLI::ExistingFile);
  command->add_option("--profile", run.profile, "Built-in profile to use instead of a file");
  command->add_option("--workspace", run.workspace,
                      "Writable directory (default: the policy's, usually .)");
  command->add_option("--audit", run.audit_path, "Append JSON Lines audit events to FILE");
  command->add_option("--name", run.name,
                      "Name for ps, stop, exec and logs (default: POLICY-ID); unique per user");
  command->add_flag("--verbose", run.verbose, "Say which layers were enforced");
  command->add_flag("--allow-degraded", run.allow_degraded,
                    "Run even if a layer cannot be enforced");
  command
      ->add_option("--allow", run.allow,
                   "Allow HOST:PORT through the egress proxy (repeatable; implies allowlist)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->add_option("--dns-upstream", run.dns_upstream,
                      "Resolver for allowed names, IP[:PORT] (default: the host's)");
  command
      ->add_option("--credential", run.credentials,
                   "NAME=HOST[,HOST]: the proxy uses $NAME for HOST; the sandbox gets a "
                   "placeholder (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

int run_main(int argc, char** argv) {
  CLI::App app{"airlock: run an AI agent whose only way out is airlock's policy"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "airlock 0.1.0");

  airlock::cli::RunArguments run;
  CLI::App* run_app = app.add_subcommand("run", "Run CMD inside a sandbox");
  add_sandbox_options(run_app, run);
  run_app->add_option("command", run.command, "CMD [ARGS...] (after --)")->required();
  run_app->prefix_command(false);

  airlock::cli::CheckArguments check;
  CLI::App* check_app = app.add_subcommand("check", "Validate a policy and print what it allows");
  check_app->add_option("policy", check.policy_file, "Policy file")->required();
  check_app->add_flag("--json", check.json, "Print the findings and the resolved policy as JSON");
  check_app->add_flag("--strict", check.strict, "Exit 1 when there are warnings");

  airlock::cli::ExplainArguments explain;
  CLI::App* explain_app = app.add_subcommand(
      "explain", "Print the capability table: what a policy grants and which layer enforces it");
  explain_app->add_option("policy", explain.policy_file, "Policy file")->check(CLI::ExistingFile);
  explain_app->add_option("--profile", explain.profile, "Built-in profile instead of a file");
  explain_app->add_flag("--json", explain.json,
                        "Print the table as JSON (docs/explain.schema.json)");

  airlock::cli::SuggestArguments suggest;
  CLI::App* suggest_app = app.add_subcommand(
      "suggest", "Print the minimal policy that allows what audit recordings show");
  suggest_app->add_option("audit", suggest.audit_files, "Audit logs (JSON Lines)")
      ->required()
      ->check(CLI::ExistingFile);
  suggest_app->add_option("--base", suggest.base,
                          "Profile name or policy file to start from (default: default)");
  suggest_app
      ->add_option("--collapse", suggest.collapse,
                   "Use *.PARENT when N or more sibling names were seen (N >= 2)")
      ->check(CLI::Range(2, 1000000));

  CLI::App* audit_app = app.add_subcommand("audit", "Work with audit logs");
  audit_app->require_subcommand(1);
  airlock::cli::AuditVerifyArguments audit_verify;
  CLI::App* audit_verify_app =
      audit_app->add_subcommand("verify", "Check an audit log's hash chain");
  audit_verify_app->add_option("file", audit_verify.file, "Audit log")->required();
  audit_verify_app->add_option(
      "--expect-last", audit_verify.expect_last,
      "A last sha256 printed (and kept elsewhere) earlier: fail unless a line still has it");

  airlock::cli::ObserveArguments observe;
  CLI::App* observe_app = app.add_subcommand(
      "observe", "Run CMD and record what it tries to reach (denied unless --forward)");
  observe_app->add_option("--policy", observe.policy_file, "Base policy (default: the default)")
      ->check(CLI::ExistingFile);
  observe_app->add_option("--workspace", observe.workspace, "Writable directory");
  observe_app->add_option("--audit", observe.audit_path, "Append the recording to FILE");
  observe_app->add_option("-o,--output", observe.output, "Write the suggested policy to FILE");
  observe_app->add_option("--dns-upstream", observe.dns_upstream,
                          "Resolver for allowed names, IP[:PORT] (default: the host's)");
  observe_app->add_flag("--forward", observe.forward,
                        "Allow what is attempted (still through the proxy and its checks)");
  observe_app->add_flag("--verbose", observe.verbose, "Say which layers were enforced");
  observe_app->add_option("command", observe.command, "CMD [ARGS...] (after --)")->required();
  observe_app->prefix_command(false);

  CLI::App* profiles_app =
      app.add_subcommand("profiles", "List the built-in profiles (for --profile and extends)");

  CLI::App* session_app =
      app.add_subcommand("session", "Sandboxes that stay up with no command, for airlock exec");
  session_app->require_subcommand(1);
  airlock::cli::RunArguments session_start;
  CLI::App* session_start_app = session_app->add_subcommand(
      "start", "Start a session; prints its name once it is ready for airlock exec");
  add_sandbox_options(session_start_app, session_start);
  airlock::cli::StopArguments session_stop;
  CLI::App* session_stop_app = session_app->add_subcommand("stop", "Stop a session");
  session_stop_app->add_option("name", session_stop.name, "Session name")->required();
  session_stop_app->add_option("--grace", session_stop.grace,
                               "SIGTERM, then SIGKILL after this long (default 10s)");

  airlock::cli::StopArguments stop;
  CLI::App* stop_app = app.add_subcommand("stop", "Stop a running sandbox (run or session)");
  stop_app->add_option("name", stop.name, "Sandbox name (airlock ps)")->required();
  stop_app->add_option("--grace", stop.grace, "SIGTERM, then SIGKILL after this long (10s)");

  airlock::cli::ExecArguments exec;
  CLI::App* exec_app = app.add_subcommand(
      "exec", "Run CMD inside a session, confined exactly like it; its exit status passes through");
  exec_app->add_option("name", exec.name, "Session name")->required();
  exec_app->add_flag("--json", exec.json,
                     "Print {stdout, stderr, exit_code, signal, timed_out, duration_ms, truncated} "
                     "(1 MiB per stream) instead of streaming");
  exec_app->add_option("--timeout", exec.timeout, "Kill it after this long (30s, 500ms, 2m)");
  exec_app->add_option("--cwd", exec.cwd, "Directory inside the sandbox (default: the session's)");
  exec_app->add_option("-e,--env", exec.environment, "K=V for this command (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  exec_app->add_option("command", exec.command, "CMD [ARGS...] (after --)")->required();
  exec_app->prefix_command(false);

  airlock::cli::LogsArguments logs;
  CLI::App* logs_app = app.add_subcommand(
      "logs", "A running sandbox's events (also without an audit file): the last 1000, or -f");
  logs_app->add_option("name", logs.name, "Sandbox name (default: the only one running)");
  logs_app->add_flag("-f,--follow", logs.follow, "Keep printing new events until it ends");
  logs_app->add_flag("--json", logs.json, "Print the events as recorded (JSON Lines)");

  airlock::cli::McpArguments mcp;
  CLI::App* mcp_app = app.add_subcommand(
      "mcp", "A Model Context Protocol server on stdio whose tools run in one session");
  mcp_app->add_option("--policy", mcp.policy_file, "Policy file (default: the default policy)")
      ->check(CLI::ExistingFile);
  mcp_app->add_option("--profile", mcp.profile, "Built-in profile to use instead of a file");
  mcp_app->add_option("--workspace", mcp.workspace,
                      "Writable directory (default: the current directory)");

  airlock::cli::RevokeArguments revoke;
  CLI::App* revoke_app = app.add_subcommand(
      "revoke", "Refuse a credential's placeholder in a running sandbox from now on");
  revoke_app->add_option("name", revoke.name, "Sandbox name (airlock ps)")->required();
  revoke_app->add_option("credential", revoke.credential, "Credential name (as in the policy)")
      ->required();

  airlock::cli::StackArguments up;
  CLI::App* up_app = app.add_subcommand(
      "up", "Start a stack's sandboxes, each in its own security domain, wired only by its links");
  up_app->add_option("-f,--file", up.file, "Stack file (stack.yaml)")->required();
  up_app->add_option("--audit", up.audit_path, "Append every sandbox's audit events to FILE");
  up_app->add_option("--wait", up.wait,
                     "How long a linked-to sandbox may take to listen on its ports (60s)");
  airlock::cli::StackArguments down;
  CLI::App* down_app =
      app.add_subcommand("down", "Stop a stack's running sandboxes, those that link first");
  down_app->add_option("-f,--file", down.file, "Stack file (stack.yaml)")->required();
  down_app->add_option("--grace", down.grace, "SIGTERM, then SIGKILL after this long (10s)");

  airlock::cli::PsArguments ps;
  CLI::App* ps_app = app.add_subcommand("ps", "List your running sandboxes");
  ps_app->add_flag("--json", ps.json, "Print what each sandbox reports, as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    fmt::print(stderr, "airlock: {}\n", error.what());
    return airlock::supervisor::kExitBadInput;
  }
  if (run_app->parsed()) return airlock::cli::run_command(run);
  if (profiles_app->parsed()) return airlock::cli::profiles_command();
  if (session_start_app->parsed()) return airlock::cli::session_start_command(session_start);
  if (session_stop_app->parsed()) return airlock::cli::stop_command(session_stop);
  if (stop_app->parsed()) return airlock::cli::stop_command(stop);
  if (exec_app->parsed()) return airlock::cli::exec_command(exec);
  if (ps_app->parsed()) return airlock::cli::ps_command(ps);
  if (up_app->parsed()) return airlock::cli::up_command(up);
  if (revoke_app->parsed()) return airlock::cli::revoke_command(revoke);
  if (down_app->parsed()) return airlock::cli::down_command(down);
  if (logs_app->parsed()) return airlock::cli::logs_command(logs);
  if (mcp_app->parsed()) return airlock::cli::mcp_command(mcp);
  if (explain_app->parsed()) return airlock::cli::explain_command(explain);
  if (suggest_app->parsed()) return airlock::cli::suggest_command(suggest);
  if (audit_verify_app->parsed()) return airlock::cli::audit_verify_command(audit_verify);
  if (observe_app->parsed()) return airlock::cli::observe_command(observe);
  return airlock::cli::check_command(check);
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
