// One lint finding: a stable code, how bad it is, where, what is wrong and how to fix it.
// Codes are documented in docs/lint.md and never change meaning once released.
#pragma once

#include <string>

#include "policy/policy.h"

namespace airlock::lint {

enum class Severity { warning, error };
const char* to_string(Severity severity);  // "warning", "error"

struct Finding {
  std::string code;  // "area.what", e.g. "network.wildcard-public-suffix"
  Severity severity = Severity::warning;
  policy::SourceLocation where;
  std::string message;
  std::string fix;
  bool operator==(const Finding&) const = default;
};

}  // namespace airlock::lint
