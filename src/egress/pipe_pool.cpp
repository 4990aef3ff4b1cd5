#include "egress/pipe_pool.h"

#include <fcntl.h>
#include <unistd.h>

namespace airlock::egress {
namespace {

constexpr int kPipeSize = 1 << 20;  // fewer splice calls per megabyte than the default 64 KiB

}  // namespace

SplicePipe PipePool::acquire() {
  if (!idle_.empty()) {
    SplicePipe pipe = std::move(idle_.back());
    idle_.pop_back();
    return pipe;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return {};
  // Best effort: above pipe-max-size, or past the user's pipe budget, it stays 64 KiB.
  ::fcntl(fds[1], F_SETPIPE_SZ, kPipeSize);
  return SplicePipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void PipePool::release(SplicePipe pipe) {
  if (!pipe.valid() || idle_.size() >= keep_) return;  // closed by SplicePipe's destructor
  idle_.push_back(std::move(pipe));
}

}  // namespace airlock::egress
