// Moves bytes both ways between the sandbox's client socket and the upstream socket once a
// connection is allowed: splice(2) through a pipe (zero-copy) per direction, correct half-close
// (EOF on one side becomes shutdown(SHUT_WR) on the other), an idle timeout, and an optional
// filter on the client's bytes (SNI / HTTP Host checks) that can end the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/unique_fd.h"
#include "egress/event_loop.h"
#include "egress/pipe_pool.h"

namespace airlock::egress {

// Inspects the client's bytes before they go upstream. It appends what to forward to `out`.
class ClientFilter {
 public:
  enum class Verdict { forward, pass_through, deny };
  virtual ~ClientFilter() = default;
  // pass_through: forward `out` and every later byte unexamined (the relay switches to splice).
  virtual Verdict feed(std::string_view in, std::string& out) = 0;
  virtual std::string denial() const = 0;  // why, after deny
  // After deny: bytes to send the client before the connection closes (an HTTP 403), or "".
  virtual std::string denial_answer() const { return ""; }
  virtual bool finished() const = 0;  // nothing more to examine: relay unexamined
};

struct RelayTotals {
  uint64_t bytes_up = 0;    // client -> upstream
  uint64_t bytes_down = 0;  // upstream -> client
  std::string ended_by;     // "closed", "idle timeout", "client reset", "filter: ...", ...
  bool denied_by_filter = false;
};

class StreamRelay final : public EventLoop::Handler {
 public:
  using Done = std::function<void(const RelayTotals&)>;
  // The sockets may still be registered with `loop` by their previous handler: the relay takes
  // them over without another system call.
  StreamRelay(EventLoop& loop, PipePool& pipes, UniqueFd client, UniqueFd upstream,
              std::chrono::seconds idle_timeout, std::unique_ptr<ClientFilter> filter, Done done);
  ~StreamRelay();
  StreamRelay(const StreamRelay&) = delete;
  StreamRelay& operator=(const StreamRelay&) = delete;

  // Bytes to deliver first: `to_client` (e.g. "200 Connection established"), `checked` (client
  // bytes the filter has already passed, forwarded as they are) and `unchecked` (client bytes
  // read during intake that still go through the filter).
  void start(std::string to_client, std::string checked, std::string unchecked);
  void on_ready(int fd, uint32_t events) override;
  const RelayTotals& totals() const { return totals_; }
  // Ends the relay now (both sockets closed with a reset); `done` is not called.
  void abort();

 private:
  struct Direction {
    int from = -1;
    int to = -1;
    bool splice = true;
    SplicePipe pipe;  // borrowed from the pool while in_pipe > 0
    size_t in_pipe = 0;
    std::string buffer;  // copy mode: bytes waiting to be written to `to`
    bool from_eof = false;
    bool shut = false;
    uint64_t* counter = nullptr;
  };
  bool pump(Direction& direction);
  bool fill_by_splice(Direction& direction, bool& progress);
  bool fill_by_copy(Direction& direction, ClientFilter* filter, bool& progress);
  bool drain(Direction& direction, bool& progress);
  size_t pending(const Direction& direction) const;
  void update_interest();
  void deny_by_filter();
  void finish(const std::string& reason, bool reset);
  void arm_idle_timer();

  EventLoop& loop_;
  PipePool& pipes_;
  UniqueFd client_, upstream_;
  std::chrono::seconds idle_timeout_;
  std::unique_ptr<ClientFilter> filter_;  // kept after pass_through: the session reads it
  bool filter_done_ = false;
  Done done_;
  Direction up_, down_;
  RelayTotals totals_;
  EventLoop::Clock::time_point last_activity_;
  uint64_t idle_timer_ = 0;
  bool finished_ = false;
};

}  // namespace airlock::egress
