// Asynchronous name resolution for the proxy (c-ares on the proxy's event loop): only ever
// asked about names the policy allows, so a denied name never causes an upstream query.
#pragma once

#include <ares.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "egress/event_loop.h"
#include "egress/ip_address.h"

namespace airlock::egress {

struct Resolution {
  std::vector<IpAddress> addresses;  // in the order the upstream gave them
  uint32_t ttl = 0;                  // the smallest TTL of the answers, seconds
  bool no_such_name = false;         // NXDOMAIN / no data
  std::string error;                 // non-empty when resolution failed
};

class DnsResolver final : public EventLoop::Handler {
 public:
  using Done = std::function<void(Resolution)>;
  // `upstream` "IP:PORT" (IPv6 in brackets), or empty for the host's resolv.conf.
  static Result<std::unique_ptr<DnsResolver>> create(EventLoop& loop, const std::string& upstream);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // family: AF_INET, AF_INET6 or AF_UNSPEC. `done` runs on the loop, exactly once (also when
  // the resolver is destroyed first, with an error).
  void resolve(const std::string& name, int family, Done done);

  void on_ready(int fd, uint32_t events) override;

 private:
  explicit DnsResolver(EventLoop& loop) : loop_(loop) {}
  static void on_socket_state(void* self, ares_socket_t fd, int readable, int writable);
  void arm_timeout();

  EventLoop& loop_;
  ares_channel channel_ = nullptr;
  uint64_t timer_ = 0;
  size_t pending_ = 0;
};

}  // namespace airlock::egress
