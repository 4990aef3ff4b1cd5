// The live stream behind `airlock logs`: every event a sandbox records, also when it has no audit
// file, kept in a ring of the last kKeptEvents lines and sent as it happens to the control
// connections that follow it. Safe from any thread (the proxy's, the supervisor's, the control
// socket's).
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace airlock::audit {

class EventTap {
 public:
  static constexpr size_t kKeptEvents = 1000;

  // `line` is one JSON object without its newline.
  void publish(const std::string& line);
  // Sends the kept lines to `fd`, then (with `follow`) every new one until unsubscribe(fd). A
  // follower that cannot keep up (its socket is full) is dropped: its connection is shut down.
  void subscribe(int fd, bool follow);
  void unsubscribe(int fd);

 private:
  std::mutex mutex_;
  std::deque<std::string> kept_;
  std::vector<int> followers_;
};

}  // namespace airlock::audit
