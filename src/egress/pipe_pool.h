// Pipes for splice(2), lent to a relay direction only while bytes are in flight: an idle tunnel
// then holds its two sockets and nothing else (10,000 idle tunnels would otherwise hold 40,000
// more descriptors). Used only on the proxy's loop thread.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "common/unique_fd.h"

namespace airlock::egress {

struct SplicePipe {
  UniqueFd read_end;
  UniqueFd write_end;
  bool valid() const { return read_end.valid(); }
};

class PipePool {
 public:
  explicit PipePool(size_t keep = 256) : keep_(keep) {}
  // A pipe (from the pool, or new and enlarged); invalid when none can be made (EMFILE).
  SplicePipe acquire();
  // Only empty pipes come back; beyond `keep` they are closed.
  void release(SplicePipe pipe);

 private:
  size_t keep_;
  std::vector<SplicePipe> idle_;
};

}  // namespace airlock::egress
