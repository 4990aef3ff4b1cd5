// `airlock check`'s lint: what a valid policy allows that it probably should not (wildcards
// anyone can register under, telemetry hosts allowed without a word, secrets in the plain
// environment, no memory limit, writable shell startup files, ...). Every rule and its code is
// in docs/lint.md.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "lint/finding.h"
#include "policy/policy.h"

namespace airlock::lint {

// `policy_file` is the file that was loaded: findings about something missing point at it.
// Comments are read from the policy's source files. An error means the lint could not run
// (libpsl or the embedded host list could not be loaded); the findings come sorted by place.
Result<std::vector<Finding>> lint_policy(const policy::Policy& policy,
                                         const std::string& policy_file);

}  // namespace airlock::lint
