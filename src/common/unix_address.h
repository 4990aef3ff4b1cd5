// Path-named Unix sockets: the address of one, and whether something accepts on it.
#pragma once

#include <sys/un.h>

#include <optional>
#include <string>

namespace airlock {

// The address of the socket at `path`; nullopt when the path does not fit sun_path (107 bytes
// and the terminating NUL): never a truncated path, which would name another file.
std::optional<sockaddr_un> unix_address(const std::string& path);

// Whether something accepts connections on the socket at `path` (a stale socket refuses them).
bool unix_socket_listening(const std::string& path);

}  // namespace airlock
