// Talking to a running sandbox's control socket from the host: connect by name, one request,
// its answer. `airlock ps`, `stop` and `exec` are built on this.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::control {

// A connection to sandbox NAME; the error says whether there is no such sandbox or it is gone.
Result<UniqueFd> connect_to_sandbox(const std::string& name);

// Sends one request and reads one answer line ({"ok": false, "error"} becomes an Error).
Result<nlohmann::json> request_once(const std::string& name, const nlohmann::json& request);

// Reads one line from a blocking socket (at most kMaxLineBytes); Error on EOF or a bad line.
Result<nlohmann::json> read_answer(int fd);

// `info` of every live sandbox in the caller's control directory (stale sockets are skipped).
std::vector<nlohmann::json> list_sandboxes();

}  // namespace airlock::control
