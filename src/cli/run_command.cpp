#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/credential_setup.h"
#include "cli/policy_choice.h"
#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "control/control_server.h"
#include "policy/network_rule.h"
#include "policy/run_support.h"
#include "sandbox/launch_plan.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {
namespace {

// --allow and --dns-upstream: quick additions on top of the policy, validated like its entries.
std::optional<std::string> apply_network_options(const RunArguments& arguments,
                                                 policy::Policy& policy) {
  for (const std::string& text : arguments.allow) {
    policy::NetworkRuleParse parsed = policy::parse_network_rule(text);
    if (!parsed.rule) return "--allow: " + parsed.problem;
    policy::NetworkRule rule = *parsed.rule;
    rule.where = policy::SourceLocation{"--allow " + text, 0, 0};
    policy.network.allow.push_back(rule);
    policy.network.mode = policy::NetworkMode::allowlist;
  }
  if (arguments.dns_upstream) {
    if (!policy::valid_dns_upstream(*arguments.dns_upstream)) {
      return "--dns-upstream '" + *arguments.dns_upstream +
             "' is not an IP address with an optional port; write e.g. 127.0.0.1:5353";
    }
    if (policy.network.mode != policy::NetworkMode::allowlist) {
      return "--dns-upstream needs an allowlist (network mode: allowlist, or --allow HOST:PORT)";
    }
    policy.network.dns_upstream = arguments.dns_upstream;
  }
  return std::nullopt;
}

// POLICY-ID8, with anything a sandbox name cannot hold replaced.
std::string default_sandbox_name(const std::string& policy_name, const std::string& sandbox_id) {
  std::string name = policy_name.substr(0, 40);
  for (char& c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!allowed) c = '-';
  }
  if (name.empty() || name.front() == '.' || name.front() == '-') name = "sandbox" + name;
  return name + "-" + sandbox_id.substr(0, 8);
}

// `session start` and `up`: the supervisor goes on in a detached process of its own; we return
// when its sandbox is ready (printing the name), or with its exit code if it could not be built.
// Why is said on our stderr, which it keeps until then; or, with an output file (`up`), in that
// file, which also takes the sandbox's own stdout and stderr from the start.
int run_detached(const sandbox::LaunchPlan& launch, supervisor::SupervisorOptions& options,
                 control::ControlServer& control, const std::optional<std::string>& output_path) {
  UniqueFd output;
  if (output_path) {
    output.reset(::open(output_path->c_str(),
                        O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!output.valid()) {
      fmt::print(stderr, "airlock: cannot open {}: {}\n", *output_path, errno_text(errno));
      return supervisor::kExitSetupFailed;
    }
  }
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    fmt::print(stderr, "airlock: cannot create a pipe: {}\n", errno_text(errno));
    return supervisor::kExitSetupFailed;
  }
  const pid_t daemon = ::fork();
  if (daemon < 0) {
    fmt::print(stderr, "airlock: cannot start the session: {}\n", errno_text(errno));
    return supervisor::kExitSetupFailed;
  }
  if (daemon == 0) {
    ::close(ready[0]);
    ::setsid();  // no terminal's signals reach the session
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(null, STDIN_FILENO);
    ::dup2(output.valid() ? output.get() : null, STDOUT_FILENO);
    if (output.valid()) ::dup2(output.get(), STDERR_FILENO);
    const int ready_fd = ready[1];
    const bool keep_stderr = output.valid();
    options.on_ready = [ready_fd, null, keep_stderr] {
      const char byte = 'r';
      ssize_t ignored = ::write(ready_fd, &byte, 1);
      (void)ignored;
      ::close(ready_fd);
      // The caller has gone on; the audit log (and the output file) keeps the rest.
      if (!keep_stderr) ::dup2(null, STDERR_FILENO);
    };
    ::_exit(supervisor::run_sandbox(launch, options));
  }
  ::close(ready[1]);
  control.forget();  // the session's supervisor owns the socket now
  char byte = 0;
  ssize_t n;
  do {
    n = ::read(ready[0], &byte, 1);
  } while (n < 0 && errno == EINTR);
  ::close(ready[0]);
  if (n == 1) {
    fmt::print("{}\n", options.name);
    return 0;
  }
  int status = 0;
  while (::waitpid(daemon, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) return WEXITSTATUS(status);
  fmt::print(stderr, "airlock: the session ended during set-up\n");
  return supervisor::kExitSetupFailed;
}

}  // namespace

int run_command(const RunArguments& arguments) {
  Result<policy::Policy> loaded =
      load_chosen_policy(arguments.policy_file, arguments.profile, "--policy");
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return supervisor::kExitBadInput;
  }
  return run_policy(std::move(loaded).value(), arguments, egress::ObserveMode::off);
}

int run_policy(policy::Policy policy, const RunArguments& arguments, egress::ObserveMode observe) {
  if (std::optional<std::string> problem = apply_network_options(arguments, policy)) {
    fmt::print(stderr, "airlock: {}\n", *problem);
    return supervisor::kExitBadInput;
  }
  if (Status applied = apply_credential_options(arguments.credentials, policy); !applied) {
    fmt::print(stderr, "airlock: {}\n", applied.error().message);
    return supervisor::kExitBadInput;
  }
  std::vector<std::string> unsupported = policy::unsupported_features(policy);
  if (!unsupported.empty()) {
    for (const std::string& line : unsupported) fmt::print(stderr, "{}\n", line);
    return supervisor::kExitBadInput;
  }
  Result<PreparedCredentials> credentials = prepare_credentials(policy);
  if (!credentials) {
    fmt::print(stderr, "airlock: {}\n", credentials.error().message);
    return supervisor::kExitBadInput;
  }
  Result<sandbox::LaunchPlan> plan = sandbox::make_launch_plan(
      sandbox::RunRequest{policy, arguments.workspace, arguments.command, credentials->view,
                          publish::link_hosts(arguments.links)});
  if (!plan) {
    fmt::print(stderr, "airlock: {}\n", plan.error().message);
    return supervisor::kExitBadInput;
  }
  for (const std::string& name :
       credentials->vault ? credentials->vault->skipped() : std::vector<std::string>{}) {
    fmt::print(stderr, "airlock: credential {} is optional and its source is not set; not used\n",
               name);
  }
  for (const std::string& name : plan->dropped_variables) {
    fmt::print(stderr,
               "airlock: not passing {} into the sandbox (it looks like a secret); to let the "
               "proxy use it for its host, add it under credentials: (or --credential "
               "{}=HOST); to pass it anyway, list it in process.env.pass\n",
               name, name);
  }
  supervisor::SupervisorOptions options;
  options.allow_degraded = arguments.allow_degraded;
  options.verbose = arguments.verbose;
  options.audit_path = arguments.audit_path.value_or(policy.audit_path.value_or(""));
  options.credentials = credentials.value().vault.get();
  options.interception = credentials.value().interception.get();
  options.trust_bundle_path = credentials->view.trust_bundle_path;
  options.observe = observe;
  options.links = arguments.links;
  sandbox::LaunchPlan launch = std::move(plan).value();
  launch.watch_exec = observe != egress::ObserveMode::off;
  launch.session = arguments.session;
  if (launch.session || arguments.detached) launch.new_session = true;  // no terminal to keep

  const std::string name =
      arguments.name.value_or(default_sandbox_name(policy.name, launch.sandbox_id));
  Result<std::unique_ptr<control::ControlServer>> control = control::ControlServer::listen(name);
  if (!control) {
    fmt::print(stderr, "airlock: {}\n", control.error().message);
    return supervisor::kExitBadInput;
  }
  options.control = control->get();
  options.name = name;
  if (launch.session || arguments.detached)
    return run_detached(launch, options, **control, arguments.output_path);
  return supervisor::run_sandbox(launch, options);
}

}  // namespace airlock::cli
