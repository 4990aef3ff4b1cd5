// A credential bound to a host:port that no allow rule reaches would only fail later, as a
// confusing denial: `airlock run` refuses it up front and `airlock explain` says it would.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.h"

namespace airlock::credentials {

// One line per unreachable binding: "FILE:LINE:COL: credential NAME is bound to HOST:PORT, which
// no network allow rule reaches; add HOST:PORT to network.allow".
std::vector<std::string> unreachable_bindings(const policy::Policy& policy);

}  // namespace airlock::credentials
