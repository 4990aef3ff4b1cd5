// The proxy's single event loop: epoll for readiness, a deadline-ordered timer list, and
// deferred work that runs after the current batch of events (so a session can be destroyed
// from inside its own callback). No per-connection thread; nothing here blocks but epoll_wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::egress {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using Callback = std::function<void()>;
  // Receives the epoll events of one watched descriptor.
  class Handler {
   public:
    virtual void on_ready(int fd, uint32_t events) = 0;

   protected:
    ~Handler() = default;
  };

  static Result<std::unique_ptr<EventLoop>> create();

  // EPOLLIN / EPOLLOUT (level-triggered). `events` 0 keeps the fd registered but quiet. On a
  // registered fd, watch() hands it to `handler` and changes the interest only if it differs,
  // so passing a socket from one handler to the next costs no system call.
  Status watch(int fd, uint32_t events, Handler* handler);
  void modify(int fd, uint32_t events);
  void forget(int fd);  // before the fd is closed; nothing to do if it is not registered

  uint64_t add_timer(Clock::time_point when, Callback callback);
  void cancel_timer(uint64_t id);
  void defer(Callback callback);  // after the current batch of events

  void run();  // until stop()
  // run() on a new thread, with SIGPIPE blocked there: splice(2) to a socket whose peer has gone
  // raises it (splice has no MSG_NOSIGNAL); blocked, it stays pending and harmless instead of
  // killing the supervisor.
  std::thread run_on_thread();
  void stop();  // from any thread

 private:
  EventLoop(UniqueFd epoll, UniqueFd wake) : epoll_(std::move(epoll)), wake_(std::move(wake)) {}
  int milliseconds_to_next_timer() const;
  void run_due_timers();
  void run_deferred();

  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd: stop() from another thread
  struct Registration {
    Handler* handler = nullptr;  // null: not registered
    uint32_t events = 0;
  };
  std::vector<Registration> registrations_;  // indexed by fd
  std::multimap<Clock::time_point, uint64_t> timer_order_;
  std::unordered_map<uint64_t, std::pair<Clock::time_point, Callback>> timers_;
  uint64_t next_timer_id_ = 1;
  std::vector<Callback> deferred_;
  bool stopping_ = false;
};

}  // namespace airlock::egress
