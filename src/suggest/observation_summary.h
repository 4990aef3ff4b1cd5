// The table `airlock observe` prints for people at the end of a run.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace airlock::suggest {

// One row per (destination, port): attempts, via, programs, allowed/denied; then names only
// asked in DNS, dropped datagrams, and programs executed (count per path).
std::string observation_summary(const std::vector<nlohmann::json>& events);

}  // namespace airlock::suggest
