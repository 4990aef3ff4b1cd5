// The capability table for a reader: a header (policy, host, whether `airlock run` would run),
// then one block per row: capability, verdict and targets, then the scope, the enforcing layers
// and what this host does not enforce, wrapped under the targets.
#pragma once

#include <string>

#include "explain/capability_table.h"

namespace airlock::explain {

std::string to_text(const CapabilityTable& table);

}  // namespace airlock::explain
