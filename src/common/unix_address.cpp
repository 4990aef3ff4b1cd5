#include "common/unix_address.h"

#include <sys/socket.h>

#include <cstring>

#include "common/unique_fd.h"

namespace airlock {

std::optional<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un address{};
  if (path.empty() || path.size() >= sizeof address.sun_path) return std::nullopt;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

bool unix_socket_listening(const std::string& path) {
  const std::optional<sockaddr_un> address = unix_address(path);
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return address && probe.valid() &&
         ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) == 0;
}

}  // namespace airlock
