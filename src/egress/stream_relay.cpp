#include "egress/stream_relay.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/errno_text.h"

namespace airlock::egress {
namespace {

constexpr size_t kMaxPending = 1 << 20;  // per direction: pipe capacity or copy buffer

void reset_socket(int fd) {
  linger abortive{1, 0};  // close() then sends RST instead of FIN
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
}

}  // namespace

StreamRelay::StreamRelay(EventLoop& loop, PipePool& pipes, UniqueFd client, UniqueFd upstream,
                         std::chrono::seconds idle_timeout, std::unique_ptr<ClientFilter> filter,
                         Done done)
    : loop_(loop),
      pipes_(pipes),
      client_(std::move(client)),
      upstream_(std::move(upstream)),
      idle_timeout_(idle_timeout),
      filter_(std::move(filter)),
      done_(std::move(done)) {
  up_.from = client_.get();
  up_.to = upstream_.get();
  up_.splice = filter_ == nullptr;
  filter_done_ = filter_ == nullptr;
  up_.counter = &totals_.bytes_up;
  down_.from = upstream_.get();
  down_.to = client_.get();
  down_.counter = &totals_.bytes_down;
}

StreamRelay::~StreamRelay() {
  if (idle_timer_ != 0) loop_.cancel_timer(idle_timer_);
  // A pipe still holding bytes is dropped with them; an empty one goes back to the pool.
  if (up_.in_pipe == 0) pipes_.release(std::move(up_.pipe));
  if (down_.in_pipe == 0) pipes_.release(std::move(down_.pipe));
  if (client_.valid()) loop_.forget(client_.get());
  if (upstream_.valid()) loop_.forget(upstream_.get());
}

void StreamRelay::start(std::string to_client, std::string checked, std::string unchecked) {
  last_activity_ = EventLoop::Clock::now();
  down_.splice = to_client.empty();
  down_.buffer = std::move(to_client);
  if (filter_ && filter_->finished()) filter_done_ = true;
  up_.buffer = std::move(checked);
  if (!up_.buffer.empty()) up_.splice = false;
  std::string from_client = std::move(unchecked);
  if (!from_client.empty()) {
    if (!filter_done_) {
      std::string out;
      ClientFilter::Verdict verdict = filter_->feed(from_client, out);
      if (verdict == ClientFilter::Verdict::deny) {
        deny_by_filter();
        return;
      }
      up_.buffer += out;
      if (verdict == ClientFilter::Verdict::pass_through) filter_done_ = true;
    } else {
      up_.buffer += from_client;
    }
    up_.splice = false;  // drain the buffer first; switches to splice when it is empty
  }
  if (!loop_.watch(client_.get(), EPOLLIN, this) || !loop_.watch(upstream_.get(), EPOLLIN, this)) {
    finish("cannot watch the sockets", true);
    return;
  }
  arm_idle_timer();
  on_ready(-1, EPOLLIN | EPOLLOUT);
}

size_t StreamRelay::pending(const Direction& direction) const {
  return direction.in_pipe + direction.buffer.size();
}

bool StreamRelay::fill_by_splice(Direction& direction, bool& progress) {
  if (!direction.pipe.valid()) {
    direction.pipe = pipes_.acquire();
    if (!direction.pipe.valid()) return false;
  }
  ssize_t n = ::splice(direction.from, nullptr, direction.pipe.write_end.get(), nullptr,
                       kMaxPending - direction.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) {
    direction.in_pipe += static_cast<size_t>(n);
    progress = true;
  } else if (n == 0) {
    direction.from_eof = true;
    progress = true;
  } else if (errno != EAGAIN && errno != EINTR) {
    return false;
  }
  // Nothing came and nothing waits: the pipe goes back, so an idle tunnel holds none.
  if (direction.in_pipe == 0) pipes_.release(std::move(direction.pipe));
  return true;
}

bool StreamRelay::fill_by_copy(Direction& direction, ClientFilter* filter, bool& progress) {
  char chunk[16384];
  ssize_t n = ::recv(direction.from, chunk, sizeof chunk, 0);
  if (n == 0) {
    direction.from_eof = true;
    progress = true;
    return true;
  }
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  progress = true;
  if (filter == nullptr) {
    direction.buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }
  std::string out;
  ClientFilter::Verdict verdict =
      filter->feed(std::string_view(chunk, static_cast<size_t>(n)), out);
  if (verdict == ClientFilter::Verdict::deny) {
    errno = EACCES;
    return false;
  }
  direction.buffer += out;
  if (verdict == ClientFilter::Verdict::pass_through) filter_done_ = true;
  return true;
}

bool StreamRelay::drain(Direction& direction, bool& progress) {
  if (direction.in_pipe > 0) {
    ssize_t n = ::splice(direction.pipe.read_end.get(), nullptr, direction.to, nullptr,
                         direction.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      direction.in_pipe -= static_cast<size_t>(n);
      *direction.counter += static_cast<uint64_t>(n);
      progress = true;
      if (direction.in_pipe == 0) pipes_.release(std::move(direction.pipe));
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
  } else if (!direction.buffer.empty()) {
    ssize_t n =
        ::send(direction.to, direction.buffer.data(), direction.buffer.size(), MSG_NOSIGNAL);
    if (n > 0) {
      direction.buffer.erase(0, static_cast<size_t>(n));
      *direction.counter += static_cast<uint64_t>(n);
      progress = true;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
  }
  return true;
}

// Moves what it can in one direction; false on a socket error (errno EACCES: the filter denied).
bool StreamRelay::pump(Direction& direction) {
  for (int rounds = 0; rounds < 16; ++rounds) {
    ClientFilter* filter = &direction == &up_ && !filter_done_ ? filter_.get() : nullptr;
    // Copy mode lasts while a filter looks at the bytes or intake bytes wait: then zero-copy.
    if (!direction.splice && filter == nullptr && direction.buffer.empty()) direction.splice = true;
    bool progress = false;
    if (!direction.from_eof && pending(direction) < kMaxPending) {
      bool ok = direction.splice ? fill_by_splice(direction, progress)
                                 : fill_by_copy(direction, filter, progress);
      if (!ok) return false;
    }
    if (!drain(direction, progress)) return false;
    if (direction.from_eof && pending(direction) == 0 && !direction.shut) {
      ::shutdown(direction.to, SHUT_WR);
      direction.shut = true;
    }
    if (!progress) break;
  }
  return true;
}

void StreamRelay::on_ready(int fd, uint32_t events) {
  if (finished_) return;
  last_activity_ = EventLoop::Clock::now();
  // Only the directions this event can move: a readable upstream is no reason to recv() the
  // client (that would return EAGAIN on every wake-up of a download).
  const uint32_t readable = EPOLLIN | EPOLLHUP | EPOLLERR;
  const bool any = fd < 0;
  const bool move_up = any || (fd == client_.get() && (events & readable) != 0) ||
                       (fd == upstream_.get() && (events & EPOLLOUT) != 0);
  const bool move_down = any || (fd == upstream_.get() && (events & readable) != 0) ||
                         (fd == client_.get() && (events & EPOLLOUT) != 0);
  if (move_up && !pump(up_)) {
    if (errno == EACCES && filter_ && !filter_done_) {
      deny_by_filter();
    } else {
      finish("client side: " + errno_text(errno), true);
    }
    return;
  }
  if (move_down && !pump(down_)) {
    finish("upstream side: " + errno_text(errno), true);
    return;
  }
  if (up_.shut && down_.shut) {
    finish("closed", false);
    return;
  }
  update_interest();
}

// The filter refused the client's bytes: its answer (if any) is sent, then the connection ends,
// with a reset unless there was an answer to deliver.
void StreamRelay::deny_by_filter() {
  totals_.denied_by_filter = true;
  const std::string answer = filter_->denial_answer();
  if (!answer.empty()) {
    ssize_t ignored =
        ::send(client_.get(), answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
    ::shutdown(upstream_.get(), SHUT_RDWR);
  }
  finish("filter: " + filter_->denial(), answer.empty());
}

void StreamRelay::update_interest() {
  uint32_t client = 0, upstream = 0;
  if (!up_.from_eof && pending(up_) < kMaxPending) client |= EPOLLIN;
  if (pending(down_) > 0) client |= EPOLLOUT;
  if (!down_.from_eof && pending(down_) < kMaxPending) upstream |= EPOLLIN;
  if (pending(up_) > 0) upstream |= EPOLLOUT;
  loop_.modify(client_.get(), client);  // no system call when the interest is unchanged
  loop_.modify(upstream_.get(), upstream);
}

void StreamRelay::arm_idle_timer() {
  idle_timer_ = loop_.add_timer(last_activity_ + idle_timeout_, [this] {
    idle_timer_ = 0;
    if (finished_) return;
    if (EventLoop::Clock::now() - last_activity_ >= idle_timeout_) {
      finish("idle timeout", true);
    } else {
      arm_idle_timer();
    }
  });
}

void StreamRelay::finish(const std::string& reason, bool reset) {
  if (finished_) return;
  finished_ = true;
  totals_.ended_by = reason;
  if (reset) {
    reset_socket(client_.get());
    reset_socket(upstream_.get());
  }
  loop_.forget(client_.get());
  loop_.forget(upstream_.get());
  // Closing is deferred to the session's destruction (after this batch of events), so a
  // descriptor number is never reused while an event for it is still being dispatched.
  if (done_) done_(totals_);
}

void StreamRelay::abort() {
  if (finished_) return;
  finished_ = true;
  totals_.ended_by = "proxy stopped";
  reset_socket(client_.get());
  reset_socket(upstream_.get());
  loop_.forget(client_.get());
  loop_.forget(upstream_.get());
}

}  // namespace airlock::egress
