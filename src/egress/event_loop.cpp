#include "egress/event_loop.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cerrno>

#include "common/errno_text.h"

namespace airlock::egress {

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Error{"cannot create the proxy's epoll: " + errno_text(errno)};
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return Error{"cannot create the proxy's eventfd: " + errno_text(errno)};
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake.get();
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &event) != 0) {
    return Error{"cannot watch the proxy's eventfd: " + errno_text(errno)};
  }
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(epoll), std::move(wake)));
}

Status EventLoop::watch(int fd, uint32_t events, Handler* handler) {
  if (fd < 0) return Error{"cannot watch an invalid descriptor"};
  if (static_cast<size_t>(fd) >= registrations_.size()) {
    registrations_.resize(static_cast<size_t>(fd) + 64);
  }
  Registration& registration = registrations_[static_cast<size_t>(fd)];
  if (registration.handler != nullptr) {
    registration.handler = handler;
    modify(fd, events);
    return ok_status();
  }
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return Error{"cannot watch a proxy socket: " + errno_text(errno)};
  }
  registration = Registration{handler, events};
  return ok_status();
}

void EventLoop::modify(int fd, uint32_t events) {
  if (fd < 0 || static_cast<size_t>(fd) >= registrations_.size()) return;
  Registration& registration = registrations_[static_cast<size_t>(fd)];
  if (registration.handler == nullptr || registration.events == events) return;
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) == 0) registration.events = events;
}

void EventLoop::forget(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= registrations_.size()) return;
  Registration& registration = registrations_[static_cast<size_t>(fd)];
  if (registration.handler == nullptr) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  registration = Registration{};
}

uint64_t EventLoop::add_timer(Clock::time_point when, Callback callback) {
  uint64_t id = next_timer_id_++;
  timer_order_.emplace(when, id);
  timers_.emplace(id, std::make_pair(when, std::move(callback)));
  return id;
}

void EventLoop::cancel_timer(uint64_t id) {
  auto found = timers_.find(id);
  if (found == timers_.end()) return;
  auto [first, last] = timer_order_.equal_range(found->second.first);
  for (auto it = first; it != last; ++it) {
    if (it->second == id) {
      timer_order_.erase(it);
      break;
    }
  }
  timers_.erase(found);
}

void EventLoop::defer(Callback callback) {
  deferred_.push_back(std::move(callback));
}

void EventLoop::stop() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
  (void)ignored;
}

int EventLoop::milliseconds_to_next_timer() const {
  if (!deferred_.empty()) return 0;
  if (timer_order_.empty()) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(timer_order_.begin()->first -
                                                                    Clock::now())
                  .count();
  if (left <= 0) return 0;
  return left > 60000 ? 60000 : static_cast<int>(left) + 1;
}

void EventLoop::run_due_timers() {
  const Clock::time_point now = Clock::now();
  while (!timer_order_.empty() && timer_order_.begin()->first <= now) {
    uint64_t id = timer_order_.begin()->second;
    timer_order_.erase(timer_order_.begin());
    auto found = timers_.find(id);
    if (found == timers_.end()) continue;
    Callback callback = std::move(found->second.second);
    timers_.erase(found);
    callback();
  }
}

void EventLoop::run_deferred() {
  while (!deferred_.empty()) {
    std::vector<Callback> batch;
    batch.swap(deferred_);
    for (Callback& callback : batch) callback();
  }
}

std::thread EventLoop::run_on_thread() {
  return std::thread([this] {
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    run();
  });
}

void EventLoop::run() {
  constexpr int kBatch = 256;
  epoll_event events[kBatch];
  while (!stopping_) {
    int ready = ::epoll_wait(epoll_.get(), events, kBatch, milliseconds_to_next_timer());
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < ready; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_.get()) {
        stopping_ = true;
        continue;
      }
      Handler* handler = static_cast<size_t>(fd) < registrations_.size()
                             ? registrations_[static_cast<size_t>(fd)].handler
                             : nullptr;
      if (handler != nullptr) handler->on_ready(fd, events[i].events);
    }
    run_deferred();
    run_due_timers();
    run_deferred();
  }
}

}  // namespace airlock::egress
