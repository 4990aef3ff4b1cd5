// observe (deny mode): a name no rule covers is answered with an address of its own from
// 198.18.0.0/15 (RFC 2544's benchmarking range, never a server on the internet), without asking
// upstream. The program then connects to it as it would to the real one, so the capture learns
// the port, the SNI or Host and the process before the attempt is refused; a failed lookup alone
// would have stopped the program before any of that.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "egress/ip_address.h"

namespace airlock::egress {

class SyntheticAddresses {
 public:
  // The same address for the same name for the whole run; nullopt once the range is used up.
  std::optional<IpAddress> address_for(const std::string& name);
  static bool contains(const IpAddress& address);

 private:
  std::unordered_map<std::string, IpAddress> by_name_;
  uint32_t next_ = 0;  // offset into the /15
};

}  // namespace airlock::egress
