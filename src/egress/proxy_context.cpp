#include "egress/proxy_context.h"

#include <fmt/format.h>

#include "egress/ip_address.h"
#include "egress/socket_owner.h"

namespace airlock::egress {

std::string endpoint_text(const sockaddr_storage& address) {
  std::optional<IpAddress> ip =
      IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), sizeof address);
  if (!ip) return "?";
  return ip->is_v4() ? fmt::format("{}:{}", ip->to_string(), port_of(address))
                     : fmt::format("[{}]:{}", ip->to_string(), port_of(address));
}

nlohmann::json owner_json(const SocketOwner& owner) {
  return {{"pid", owner.sandbox_pid},
          {"host_pid", owner.host_pid},
          {"exe", owner.exe},
          {"argv", owner.argv}};
}

nlohmann::json client_process(const ProxyContext& context, const sockaddr_storage& client) {
  if (context.sock_diag_fd < 0 || !context.sandbox_pid_namespace) return nullptr;
  std::optional<SocketOwner> owner =
      find_socket_owner(context.sock_diag_fd, client, *context.sandbox_pid_namespace);
  if (!owner) return nullptr;
  nlohmann::json process = owner_json(*owner);
  // observe learns which program needed a destination: `git-remote-https` alone says less than
  // its parent `git clone`. Only there: the walk costs a few /proc reads per event.
  if (context.policy.observe() != ObserveMode::off) {
    nlohmann::json parents = nlohmann::json::array();
    for (const SocketOwner& parent :
         parent_chain(owner->host_pid, *context.sandbox_pid_namespace)) {
      parents.push_back({{"pid", parent.sandbox_pid}, {"exe", parent.exe}, {"argv", parent.argv}});
    }
    process["parents"] = parents;
  }
  return process;
}

}  // namespace airlock::egress
