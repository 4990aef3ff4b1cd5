#include "egress/dns_resolver.h"

#include <sys/epoll.h>

#include <algorithm>

namespace airlock::egress {
namespace {

struct Query {
  DnsResolver::Done done;
};

void on_addrinfo(void* argument, int status, int /*timeouts*/, ares_addrinfo* result) {
  std::unique_ptr<Query> query(static_cast<Query*>(argument));
  Resolution resolution;
  if (status == ARES_SUCCESS && result != nullptr) {
    bool first = true;
    for (ares_addrinfo_node* node = result->nodes; node != nullptr; node = node->ai_next) {
      std::optional<IpAddress> address =
          IpAddress::from_sockaddr(node->ai_addr, static_cast<socklen_t>(node->ai_addrlen));
      if (!address) continue;
      if (std::find(resolution.addresses.begin(), resolution.addresses.end(), *address) ==
          resolution.addresses.end()) {
        resolution.addresses.push_back(*address);
      }
      uint32_t ttl = node->ai_ttl > 0 ? static_cast<uint32_t>(node->ai_ttl) : 0;
      resolution.ttl = first ? ttl : std::min(resolution.ttl, ttl);
      first = false;
    }
  } else if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
    resolution.no_such_name = true;
  } else {
    resolution.error = ares_strerror(status);
  }
  if (result != nullptr) ares_freeaddrinfo(result);
  if (resolution.addresses.empty() && resolution.error.empty()) resolution.no_such_name = true;
  query->done(std::move(resolution));
}

}  // namespace

Result<std::unique_ptr<DnsResolver>> DnsResolver::create(EventLoop& loop,
                                                         const std::string& upstream) {
  static const int library = ares_library_init(ARES_LIB_INIT_ALL);
  if (library != ARES_SUCCESS)
    return Error{std::string("cannot start c-ares: ") + ares_strerror(library)};
  std::unique_ptr<DnsResolver> resolver(new DnsResolver(loop));
  ares_options options{};
  options.sock_state_cb = &DnsResolver::on_socket_state;
  options.sock_state_cb_data = resolver.get();
  options.timeout = 2000;  // ms per try
  options.tries = 2;
  char lookups[] = "b";  // DNS only: the host's /etc/hosts is not the policy's business
  options.lookups = lookups;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
  int status = ares_init_options(&resolver->channel_, &options, mask);
  if (status != ARES_SUCCESS) {
    return Error{std::string("cannot start the proxy's resolver: ") + ares_strerror(status)};
  }
  if (!upstream.empty()) {
    status = ares_set_servers_ports_csv(resolver->channel_, upstream.c_str());
    if (status != ARES_SUCCESS) {
      return Error{"cannot use DNS upstream " + upstream + ": " + ares_strerror(status)};
    }
  }
  return resolver;
}

DnsResolver::~DnsResolver() {
  if (timer_ != 0) loop_.cancel_timer(timer_);
  // Runs every pending callback with ARES_EDESTRUCTION, so each `done` runs exactly once.
  if (channel_ != nullptr) ares_destroy(channel_);
}

void DnsResolver::resolve(const std::string& name, int family, Done done) {
  ares_addrinfo_hints hints{};
  hints.ai_family = family;
  hints.ai_flags = ARES_AI_NOSORT;
  ++pending_;
  auto* query = new Query{[this, done = std::move(done)](Resolution resolution) {
    --pending_;
    done(std::move(resolution));
  }};
  ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, on_addrinfo, query);
  arm_timeout();
}

void DnsResolver::on_socket_state(void* self, ares_socket_t fd, int readable, int writable) {
  auto* resolver = static_cast<DnsResolver*>(self);
  uint32_t events = (readable ? EPOLLIN : 0U) | (writable ? EPOLLOUT : 0U);
  if (events == 0) {
    resolver->loop_.forget(fd);
  } else if (!resolver->loop_.watch(fd, events, resolver)) {
    resolver->loop_.modify(fd, events);  // already watched: only the interest changed
  }
}

void DnsResolver::on_ready(int fd, uint32_t events) {
  ares_socket_t read_fd = (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD;
  ares_socket_t write_fd = (events & EPOLLOUT) ? fd : ARES_SOCKET_BAD;
  ares_process_fd(channel_, read_fd, write_fd);
  arm_timeout();
}

// c-ares retries and times out from ares_process_fd; call it when its next deadline passes.
void DnsResolver::arm_timeout() {
  if (timer_ != 0) {
    loop_.cancel_timer(timer_);
    timer_ = 0;
  }
  if (pending_ == 0) return;
  timeval limit{1, 0};
  timeval wait{};
  ares_timeout(channel_, &limit, &wait);
  auto when = EventLoop::Clock::now() + std::chrono::seconds(wait.tv_sec) +
              std::chrono::microseconds(wait.tv_usec);
  timer_ = loop_.add_timer(when, [this] {
    timer_ = 0;
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    arm_timeout();
  });
}

}  // namespace airlock::egress
