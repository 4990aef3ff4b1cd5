// Where sandboxes' control sockets live: /run/airlock for root, $XDG_RUNTIME_DIR/airlock for a
// normal user (or /run/user/UID/airlock, or /tmp/airlock-UID when neither exists). The directory
// is 0700 and must be owned by the caller; a socket is NAME.sock, 0600. Every sandbox's view
// hides these directories (launch_plan.cpp), and the server refuses peers in another user
// namespace as well (peer_check.h), so no sandbox can reach another's control socket.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace airlock::control {

// The caller's control directory (not created).
std::string control_directory();
// Every directory a control socket of any user may live in, to hide them from sandboxes.
std::vector<std::string> control_directories_to_hide();

// Creates the directory if needed and checks that it is a real directory (not a symlink), owned
// by us, with no access for group or others.
Result<std::string> ensure_control_directory();

// A sandbox name: 1 to 64 of [A-Za-z0-9_.-], not starting with '.' or '-'.
bool valid_sandbox_name(const std::string& name);
std::string socket_path(const std::string& directory, const std::string& name);

// The names with a socket in the caller's directory (live or stale), sorted.
std::vector<std::string> listed_sandbox_names();

}  // namespace airlock::control
