// Running totals of one sandbox's egress, for `airlock ps`: written by the proxy's thread at each
// decision and close, read by the control socket's thread (relaxed atomics: a snapshot is enough).
#pragma once

#include <atomic>
#include <cstdint>

namespace airlock::egress {

struct EgressCounters {
  std::atomic<uint64_t> allowed{0};  // connections
  std::atomic<uint64_t> denied{0};
  std::atomic<uint64_t> bytes_up{0};  // relayed, of closed connections
  std::atomic<uint64_t> bytes_down{0};
};

}  // namespace airlock::egress
