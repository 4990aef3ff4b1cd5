// Which names the DNS stub answered with which addresses, for one sandbox: an opaque TCP
// connection to such an address (postgres, redis, ssh) is then decided by name, and TLS SNI or
// HTTP Host on it must be one of those names. Bounded: the oldest addresses are forgotten first.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "egress/ip_address.h"

namespace airlock::egress {

class DnsMap {
 public:
  // At least one address is kept, so the entry being written is never the one evicted.
  explicit DnsMap(size_t max_addresses = 65536)
      : max_addresses_(max_addresses > 0 ? max_addresses : 1) {}
  void remember(const IpAddress& address, const std::string& name);
  // Names that resolved to `address`, most recent first; empty when none.
  std::vector<std::string> names_for(const IpAddress& address) const;

 private:
  static std::string key(const IpAddress& address) {
    return std::string(reinterpret_cast<const char*>(address.bytes.data()), address.size());
  }
  static constexpr size_t kNamesPerAddress = 8;
  size_t max_addresses_;
  std::unordered_map<std::string, std::vector<std::string>> names_;
  std::deque<std::string> order_;  // keys, oldest first
};

}  // namespace airlock::egress
