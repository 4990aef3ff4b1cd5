// The rule groups lint_policy runs, one file each; they share this read-only context.
#pragma once

#include <string>
#include <vector>

#include "lint/finding.h"
#include "lint/known_endpoints.h"
#include "lint/policy_source.h"
#include "lint/public_suffix.h"
#include "policy/policy.h"

namespace airlock::lint {

struct LintContext {
  const policy::Policy& policy;
  const std::string& policy_file;
  const PolicySources& sources;
  const KnownHosts& known_hosts;
  const PublicSuffixList& public_suffixes;

  // `where` when it lies in the checked file, else the top of the checked file: a finding about
  // something missing points where the user would add it.
  policy::SourceLocation in_policy_file(const policy::SourceLocation& where) const {
    if (where.file == policy_file && where.line > 0) return where;
    return policy::SourceLocation{policy_file, 1, 1};
  }
};

using Findings = std::vector<Finding>;

void lint_host_rules(const LintContext& context, Findings& findings);     // host_rule_lint.cpp
void lint_address_rules(const LintContext& context, Findings& findings);  // address_rule_lint.cpp
void lint_filesystem(const LintContext& context, Findings& findings);     // filesystem_lint.cpp
void lint_process(const LintContext& context, Findings& findings);        // process_lint.cpp
void lint_environment(const LintContext& context, Findings& findings);    // environment_lint.cpp

}  // namespace airlock::lint
