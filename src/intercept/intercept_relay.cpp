#include "intercept/intercept_relay.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/errno_text.h"

namespace airlock::intercept {
namespace {

constexpr size_t kMaxOutgoing = 1 << 20;  // per socket: stop reading the other side beyond it

void reset_socket(int fd) {
  linger abortive{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
}

}  // namespace

InterceptRelay::InterceptRelay(egress::EventLoop& loop, UniqueFd client, UniqueFd upstream,
                               std::chrono::seconds idle_timeout, Sides sides, Done done)
    : loop_(loop),
      client_fd_(std::move(client)),
      upstream_fd_(std::move(upstream)),
      idle_timeout_(idle_timeout),
      sides_(std::move(sides)),
      redactor_(std::move(sides_.redactions)),
      done_(std::move(done)) {
  client_.fd = client_fd_.get();
  upstream_.fd = upstream_fd_.get();
}

InterceptRelay::~InterceptRelay() {
  if (idle_timer_ != 0) loop_.cancel_timer(idle_timer_);
  if (client_fd_.valid()) loop_.forget(client_fd_.get());
  if (upstream_fd_.valid()) loop_.forget(upstream_fd_.get());
}

void InterceptRelay::start(std::string to_client, const std::string& from_client) {
  last_activity_ = egress::EventLoop::Clock::now();
  client_.outgoing = std::move(to_client);
  sides_.client->put_raw(from_client);
  if (!loop_.watch(client_.fd, EPOLLIN, this) || !loop_.watch(upstream_.fd, EPOLLIN, this)) {
    finish("cannot watch the sockets", true);
    return;
  }
  arm_idle_timer();
  step();
}

bool InterceptRelay::read_socket(Socket& socket, Channel& channel) {
  char chunk[16384];
  for (int rounds = 0; rounds < 8 && !socket.eof; ++rounds) {
    ssize_t n = ::recv(socket.fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      channel.put_raw(std::string_view(chunk, static_cast<size_t>(n)));
      if (static_cast<size_t>(n) < sizeof chunk) break;
    } else if (n == 0) {
      socket.eof = true;
    } else {
      return errno == EAGAIN || errno == EINTR;
    }
  }
  return true;
}

bool InterceptRelay::write_socket(Socket& socket) {
  while (!socket.outgoing.empty()) {
    ssize_t n = ::send(socket.fd, socket.outgoing.data(), socket.outgoing.size(), MSG_NOSIGNAL);
    if (n > 0) {
      (&socket == &client_ ? totals_.bytes_down : totals_.bytes_up) += static_cast<uint64_t>(n);
      socket.outgoing.erase(0, static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return true;
    } else {
      return false;
    }
  }
  return true;
}

// Client plaintext: checked and rewritten by the filter; after an upgrade request, held until
// the origin's answer says 101 (a refused upgrade leaves HTTP, which is not followed blind).
void InterceptRelay::move_up(const std::string& plain) {
  if (plain.empty()) return;
  egress::DestinationFilter* filter = sides_.filter.get();
  switch (upgrade_) {
    case Upgrade::refused:
      finish("the origin refused the upgrade; the connection is not used again", true);
      return;
    case Upgrade::awaiting_answer:
      held_up_ += plain;
      return;
    case Upgrade::accepted:
      sides_.upstream->write_plain(plain);
      return;
    case Upgrade::none:
      break;
  }
  if (filter == nullptr) {
    sides_.upstream->write_plain(plain);
    return;
  }
  std::string out;
  if (filter->feed(plain, out) == egress::ClientFilter::Verdict::deny) {
    totals_.denied_by_filter = true;
    // The answer is encrypted first, then the close_notify after it.
    sides_.client->write_plain(filter->denial_answer());
    std::string ignored;
    sides_.client->pump(ignored);
    sides_.client->close();
    sides_.client->take_raw(client_.outgoing);
    write_socket(client_);  // best effort: the answer fits a fresh socket's buffer
    finish("filter: " + filter->denial(), false);
    return;
  }
  sides_.upstream->write_plain(out);
  if (filter->upgraded()) {
    upgrade_ = Upgrade::awaiting_answer;
    held_up_ = filter->take_after_upgrade();
  }
}

// Origin plaintext: the real values become placeholders; the upgrade answer is looked at.
void InterceptRelay::move_down(const std::string& plain) {
  if (upgrade_ == Upgrade::awaiting_answer && !plain.empty()) {
    constexpr size_t kStatusLine = 12;  // "HTTP/1.1 101"
    answer_head_ += plain.substr(0, kStatusLine - std::min(answer_head_.size(), kStatusLine));
    if (answer_head_.size() >= kStatusLine) {
      const bool switching =
          answer_head_.rfind("HTTP/1.1 101", 0) == 0 || answer_head_.rfind("HTTP/1.0 101", 0) == 0;
      upgrade_ = switching ? Upgrade::accepted : Upgrade::refused;
      if (switching && !held_up_.empty()) sides_.upstream->write_plain(held_up_);
      held_up_.clear();
    }
  }
  std::string out;
  redactor_.feed(plain, out);
  if (upstream_closed_) redactor_.flush(out);
  sides_.client->write_plain(out);
}

void InterceptRelay::step() {
  for (int rounds = 0; rounds < 8 && !finished_; ++rounds) {
    const size_t before = client_.outgoing.size() + upstream_.outgoing.size() + held_up_.size();
    std::string plain;
    Channel::State client_state = sides_.client->pump(plain);
    if (client_state == Channel::State::failed) {
      finish("client TLS: " + sides_.client->error(), true);
      return;
    }
    move_up(plain);
    if (finished_) return;
    if (client_state == Channel::State::closed || (client_.eof && !client_closed_)) {
      client_closed_ = true;
      sides_.upstream->close();
    }
    plain.clear();
    Channel::State upstream_state = sides_.upstream->pump(plain);
    if (upstream_state == Channel::State::failed) {
      finish("upstream TLS: " + sides_.upstream->error(), true);
      return;
    }
    if (upstream_state == Channel::State::closed || upstream_.eof) upstream_closed_ = true;
    move_down(plain);
    if (upstream_closed_) sides_.client->close();
    std::string ignored;
    if (sides_.client->pump(ignored) == Channel::State::failed) {
      finish("client TLS: " + sides_.client->error(), true);
      return;
    }
    if (!ignored.empty()) move_up(ignored);
    if (finished_) return;
    sides_.client->take_raw(client_.outgoing);
    sides_.upstream->take_raw(upstream_.outgoing);
    if (!write_socket(client_)) {
      finish("client side: " + errno_text(errno), true);
      return;
    }
    if (!write_socket(upstream_)) {
      finish("upstream side: " + errno_text(errno), true);
      return;
    }
    const size_t after = client_.outgoing.size() + upstream_.outgoing.size() + held_up_.size();
    if (after == before && plain.empty()) break;
  }
  if (finished_) return;
  // Half-close: an ended stream is passed on once everything before it was written.
  if (client_closed_ && upstream_.outgoing.empty() && !upstream_.shut) {
    ::shutdown(upstream_.fd, SHUT_WR);
    upstream_.shut = true;
  }
  if (upstream_closed_ && client_.outgoing.empty() && !client_.shut) {
    ::shutdown(client_.fd, SHUT_WR);
    client_.shut = true;
  }
  if (client_.shut && upstream_.shut) {
    finish("closed", false);
    return;
  }
  if ((client_.eof && upstream_.eof) && client_.outgoing.empty() && upstream_.outgoing.empty()) {
    finish("closed", false);
    return;
  }
  update_interest();
}

void InterceptRelay::on_ready(int fd, uint32_t events) {
  if (finished_) return;
  last_activity_ = egress::EventLoop::Clock::now();
  const uint32_t readable = EPOLLIN | EPOLLHUP | EPOLLERR;
  if (fd == client_.fd && (events & readable) != 0 && upstream_.outgoing.size() < kMaxOutgoing) {
    if (!read_socket(client_, *sides_.client)) {
      finish("client side: " + errno_text(errno), true);
      return;
    }
  }
  if (fd == upstream_.fd && (events & readable) != 0 && client_.outgoing.size() < kMaxOutgoing) {
    if (!read_socket(upstream_, *sides_.upstream)) {
      finish("upstream side: " + errno_text(errno), true);
      return;
    }
  }
  step();
}

void InterceptRelay::update_interest() {
  uint32_t client = 0, upstream = 0;
  if (!client_.eof && upstream_.outgoing.size() < kMaxOutgoing) client |= EPOLLIN;
  if (!client_.outgoing.empty()) client |= EPOLLOUT;
  if (!upstream_.eof && client_.outgoing.size() < kMaxOutgoing) upstream |= EPOLLIN;
  if (!upstream_.outgoing.empty()) upstream |= EPOLLOUT;
  loop_.modify(client_.fd, client);
  loop_.modify(upstream_.fd, upstream);
}

void InterceptRelay::arm_idle_timer() {
  idle_timer_ = loop_.add_timer(last_activity_ + idle_timeout_, [this] {
    idle_timer_ = 0;
    if (finished_) return;
    if (egress::EventLoop::Clock::now() - last_activity_ >= idle_timeout_) {
      finish("idle timeout", true);
    } else {
      arm_idle_timer();
    }
  });
}

void InterceptRelay::finish(const std::string& reason, bool reset) {
  if (finished_) return;
  finished_ = true;
  totals_.ended_by = reason;
  if (reset) {
    reset_socket(client_.fd);
    reset_socket(upstream_.fd);
  }
  loop_.forget(client_.fd);
  loop_.forget(upstream_.fd);
  if (done_) done_(totals_);
}

void InterceptRelay::abort() {
  if (finished_) return;
  finished_ = true;
  totals_.ended_by = "proxy stopped";
  reset_socket(client_.fd);
  reset_socket(upstream_.fd);
  loop_.forget(client_.fd);
  loop_.forget(upstream_.fd);
}

}  // namespace airlock::intercept
