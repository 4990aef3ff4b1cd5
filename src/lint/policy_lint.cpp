#include "lint/policy_lint.h"

#include <algorithm>
#include <cctype>
#include <tuple>

#include "lint/lint_rules.h"
#include "policy/run_support.h"

namespace airlock::lint {
namespace {

// run_support's lines are "FILE:LINE:COL: message": split at the first ":LINE:COL: ".
Finding refused_by_run(const std::string& line, const std::string& policy_file) {
  auto digits = [&](size_t from) {
    size_t end = from;
    while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end])) != 0) ++end;
    return end;
  };
  Finding finding{"policy.refused-by-run",
                  Severity::warning,
                  {policy_file, 0, 0},
                  line,
                  "airlock run refuses this policy until it is changed as the message says"};
  for (size_t colon = line.find(':'); colon != std::string::npos;
       colon = line.find(':', colon + 1)) {
    const size_t line_end = digits(colon + 1);
    if (line_end == colon + 1 || line_end >= line.size() || line[line_end] != ':') continue;
    const size_t column_end = digits(line_end + 1);
    if (column_end == line_end + 1 || line.compare(column_end, 2, ": ") != 0) continue;
    finding.where = {line.substr(0, colon), std::stoi(line.substr(colon + 1, line_end - colon - 1)),
                     std::stoi(line.substr(line_end + 1, column_end - line_end - 1))};
    finding.message = line.substr(column_end + 2);
    break;
  }
  return finding;
}

}  // namespace

const char* to_string(Severity severity) {
  return severity == Severity::error ? "error" : "warning";
}

Result<std::vector<Finding>> lint_policy(const policy::Policy& policy,
                                         const std::string& policy_file) {
  Result<const PublicSuffixList*> suffixes = PublicSuffixList::get();
  if (!suffixes) return Error{"cannot lint: " + suffixes.error().message};
  Result<const KnownHosts*> known = known_hosts();
  if (!known) return Error{"cannot lint: " + known.error().message};
  const PolicySources sources;
  const LintContext context{policy, policy_file, sources, **known, **suffixes};
  Findings findings;
  lint_host_rules(context, findings);
  lint_address_rules(context, findings);
  lint_filesystem(context, findings);
  lint_process(context, findings);
  lint_environment(context, findings);
  for (const std::string& line : policy::unsupported_features(policy))
    findings.push_back(refused_by_run(line, policy_file));
  // The checked file first, then the profiles it extends; within a file, by place.
  std::stable_sort(findings.begin(), findings.end(), [&](const Finding& a, const Finding& b) {
    return std::make_tuple(a.where.file != policy_file, a.where.file, a.where.line,
                           a.where.column) <
           std::make_tuple(b.where.file != policy_file, b.where.file, b.where.line, b.where.column);
  });
  return findings;
}

}  // namespace airlock::lint
