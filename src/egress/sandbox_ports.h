// Where airlock's egress listeners live on the sandbox's own loopback (inside its network
// namespace). The agent sees them through resolv.conf and the proxy variables; nftables sends
// every other outbound TCP connection to the transparent port and all port-53 traffic to DNS.
#pragma once

#include <cstdint>

namespace airlock::egress {

inline constexpr uint16_t kDnsPort = 53;
inline constexpr uint16_t kSocksPort = 1080;
inline constexpr uint16_t kHttpProxyPort = 3128;
inline constexpr uint16_t kTransparentPort = 15001;

inline constexpr bool is_listener_port(uint16_t port) {
  return port == kDnsPort || port == kSocksPort || port == kHttpProxyPort ||
         port == kTransparentPort;
}

}  // namespace airlock::egress
