// `airlock check [--json] [--strict] POLICY`: validate (one error line, exit 2), then lint.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "lint/policy_lint.h"
#include "policy/policy_json.h"
#include "policy/policy_loader.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {
namespace {

constexpr int kExitWarningsUnderStrict = 1;

nlohmann::json finding_json(const lint::Finding& finding) {
  return {{"code", finding.code},
          {"severity", lint::to_string(finding.severity)},
          {"file", finding.where.file},
          {"line", finding.where.line},
          {"column", finding.where.column},
          {"message", finding.message},
          {"fix", finding.fix}};
}

// The stable shape scripts read: schema airlock.check/v1.
nlohmann::json report_json(const std::string& file, const policy::Policy& policy,
                           const std::vector<lint::Finding>& findings, bool ok) {
  nlohmann::json list = nlohmann::json::array();
  for (const lint::Finding& finding : findings) list.push_back(finding_json(finding));
  return {{"schema", "airlock.check/v1"},
          {"file", file},
          {"ok", ok},
          {"findings", list},
          {"policy", policy::to_json(policy)}};
}

void print_report(const std::string& file, const policy::Policy& policy,
                  const std::vector<lint::Finding>& findings, size_t errors) {
  fmt::print("{}: valid (policy '{}', sha256 {})\n", file, policy.name,
             policy::policy_sha256(policy).substr(0, 16));
  for (const lint::Finding& finding : findings) {
    fmt::print("{}: {}: [{}] {}\n  fix: {}\n", finding.where.to_string(),
               lint::to_string(finding.severity), finding.code, finding.message, finding.fix);
  }
  const size_t warnings = findings.size() - errors;
  fmt::print("{} error{}, {} warning{}\n", errors, errors == 1 ? "" : "s", warnings,
             warnings == 1 ? "" : "s");
  fmt::print("capabilities: airlock explain {}\n", file);
}

}  // namespace

int check_command(const CheckArguments& arguments) {
  Result<policy::Policy> loaded = policy::load_policy_file(arguments.policy_file);
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return supervisor::kExitBadInput;
  }
  Result<std::vector<lint::Finding>> findings = lint::lint_policy(*loaded, arguments.policy_file);
  if (!findings) {
    fmt::print(stderr, "{}: {}\n", arguments.policy_file, findings.error().message);
    return supervisor::kExitBadInput;
  }
  const auto errors = static_cast<size_t>(std::count_if(
      findings->begin(), findings->end(),
      [](const lint::Finding& finding) { return finding.severity == lint::Severity::error; }));
  const bool fails_strict = arguments.strict && !findings->empty();
  if (arguments.json) {
    const bool ok = errors == 0 && !fails_strict;
    fmt::print("{}\n", report_json(arguments.policy_file, *loaded, *findings, ok).dump(2));
  } else {
    print_report(arguments.policy_file, *loaded, *findings, errors);
  }
  if (errors > 0) return supervisor::kExitBadInput;
  return fails_strict ? kExitWarningsUnderStrict : 0;
}

}  // namespace airlock::cli
