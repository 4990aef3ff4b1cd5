// Relays one intercepted connection: airlock terminates the sandbox's side (TLS with a leaf
// from the run CA, or plain HTTP at a local endpoint) and originates the upstream side (TLS
// verified against the host's store, or with an mTLS credential). Every request the client
// sends goes through the DestinationFilter (strict HTTP/1.1, Host re-checked, the credential
// hook substituting placeholders); every byte coming back goes through a StreamRedactor, so the
// real value never reaches the sandbox. Responses are forwarded as they arrive (no buffering),
// so server-sent events stream token by token.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/unique_fd.h"
#include "credentials/stream_redactor.h"
#include "egress/client_filter.h"
#include "egress/event_loop.h"
#include "egress/stream_relay.h"
#include "intercept/channel.h"

namespace airlock::intercept {

class InterceptRelay final : public egress::EventLoop::Handler {
 public:
  using Done = std::function<void(const egress::RelayTotals&)>;
  struct Sides {
    std::unique_ptr<Channel> client;    // the sandbox's side
    std::unique_ptr<Channel> upstream;  // the origin's side
    // Checks the client's plaintext; null relays it unexamined (an mTLS credential's stream).
    std::unique_ptr<egress::DestinationFilter> filter;
    std::vector<credentials::StreamRedactor::Pair> redactions;
  };
  InterceptRelay(egress::EventLoop& loop, UniqueFd client, UniqueFd upstream,
                 std::chrono::seconds idle_timeout, Sides sides, Done done);
  ~InterceptRelay();
  InterceptRelay(const InterceptRelay&) = delete;
  InterceptRelay& operator=(const InterceptRelay&) = delete;

  // `to_client`: raw bytes first (e.g. "200 Connection established" before the TLS handshake);
  // `from_client`: raw bytes the session already read (e.g. the ClientHello).
  void start(std::string to_client, const std::string& from_client);
  void on_ready(int fd, uint32_t events) override;
  const egress::RelayTotals& totals() const { return totals_; }
  const egress::DestinationFilter* filter() const { return sides_.filter.get(); }
  void abort();

 private:
  struct Socket {
    int fd = -1;
    std::string outgoing;  // raw bytes waiting for the socket
    bool eof = false;      // nothing more will be read
    bool shut = false;     // our write side is shut
  };
  bool read_socket(Socket& socket, Channel& channel);
  bool write_socket(Socket& socket);
  void move_up(const std::string& plain);
  void move_down(const std::string& plain);
  void step();
  void update_interest();
  void finish(const std::string& reason, bool reset);
  void arm_idle_timer();

  egress::EventLoop& loop_;
  UniqueFd client_fd_, upstream_fd_;
  std::chrono::seconds idle_timeout_;
  Sides sides_;
  credentials::StreamRedactor redactor_;
  Done done_;
  Socket client_, upstream_;
  bool client_closed_ = false, upstream_closed_ = false;  // plaintext streams ended
  enum class Upgrade { none, awaiting_answer, accepted, refused } upgrade_ = Upgrade::none;
  std::string held_up_;      // client bytes after an upgrade request, until the 101
  std::string answer_head_;  // the start of the origin's answer to the upgrade request
  egress::RelayTotals totals_;
  egress::EventLoop::Clock::time_point last_activity_;
  uint64_t idle_timer_ = 0;
  bool finished_ = false;
};

}  // namespace airlock::intercept
