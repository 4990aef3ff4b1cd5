#include "audit/event_tap.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace airlock::audit {
namespace {

// Non-blocking: a recording thread never waits for a reader.
bool send_whole(int fd, const std::string& text) {
  size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t n =
        ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void EventTap::publish(const std::string& line) {
  const std::string text = line + '\n';
  std::lock_guard<std::mutex> lock(mutex_);
  kept_.push_back(line);
  if (kept_.size() > kKeptEvents) kept_.pop_front();
  for (auto follower = followers_.begin(); follower != followers_.end();) {
    if (send_whole(*follower, text)) {
      ++follower;
    } else {
      ::shutdown(*follower, SHUT_RDWR);  // its reader sees EOF; the control thread closes it
      follower = followers_.erase(follower);
    }
  }
}

void EventTap::subscribe(int fd, bool follow) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string backlog;
  for (const std::string& line : kept_) backlog += line + '\n';
  // The backlog may be larger than the socket buffer: this one send may block (the control
  // socket's send timeout bounds it), under the lock so that no new line slips in between.
  size_t sent = 0;
  while (sent < backlog.size()) {
    const ssize_t n = ::send(fd, backlog.data() + sent, backlog.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    sent += static_cast<size_t>(n);
  }
  if (follow) followers_.push_back(fd);
}

void EventTap::unsubscribe(int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  followers_.erase(std::remove(followers_.begin(), followers_.end(), fd), followers_.end());
}

}  // namespace airlock::audit
