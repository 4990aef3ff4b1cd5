// Reading audit recordings (JSON Lines, one event per line) for `suggest` and `observe`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace airlock::suggest {

// Every event of an audit log, in order. A line that is not a JSON object is an error
// "PATH:LINE: ..." (the caller exits 2); empty lines are skipped.
Result<std::vector<nlohmann::json>> read_audit_events(const std::string& path);

}  // namespace airlock::suggest
