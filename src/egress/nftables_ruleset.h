// Loads an nftables ruleset into the calling process's network namespace with libnftables,
// which is opened only by runs that capture egress (see common/shared_library.h).
#pragma once

#include <string>

#include "common/result.h"

namespace airlock::egress {

// Opens libnftables once per process. The supervisor calls it before forking the capture helper,
// so a missing library is reported before any namespace is touched.
Status open_nftables_library();

// Runs `ruleset` (nft syntax) as one transaction; the error carries nft's own message on one line.
Status load_nftables_ruleset(const std::string& ruleset);

// Runs `command` (e.g. "list set inet airlock NAME") and returns nft's JSON output.
Result<std::string> nftables_json(const std::string& command);

}  // namespace airlock::egress
