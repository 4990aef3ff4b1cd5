// Who made a connection, in a word or two for a comment: "git (clone)", "npm (install)",
// "curl". docs/observe.md lists the heuristic.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace airlock::suggest {

// From an audit event's "process" object ({exe, argv, parents: [{exe, argv}, ...]}); a missing
// or empty one is "unknown program".
std::string program_label(const nlohmann::json& process);

}  // namespace airlock::suggest
