// The sandbox's only resolver (its resolv.conf names it, and nftables sends every port-53
// packet to it). A/AAAA questions for names the policy may allow are resolved upstream and
// answered with the addresses that may be dialled, which are remembered for this sandbox; any
// other name gets NXDOMAIN without a single upstream query; other record types are refused.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/unique_fd.h"
#include "egress/event_loop.h"
#include "egress/proxy_context.h"

namespace airlock::egress {

class DnsStub final : public EventLoop::Handler {
 public:
  DnsStub(ProxyContext& context, UniqueFd udp_v4, UniqueFd udp_v6, UniqueFd tcp_v4,
          UniqueFd tcp_v6);
  ~DnsStub();
  DnsStub(const DnsStub&) = delete;
  DnsStub& operator=(const DnsStub&) = delete;

  Status start();
  void on_ready(int fd, uint32_t events) override;

 private:
  using Reply = std::function<void(const std::vector<uint8_t>&)>;
  struct TcpClient;
  void read_udp(int fd);
  void accept_tcp(int fd);
  void read_tcp(TcpClient& client);
  void close_tcp(int fd);
  void answer(const uint8_t* message, size_t length, const sockaddr_storage& client,
              const Reply& reply);

  ProxyContext& context_;
  UniqueFd udp_v4_, udp_v6_, tcp_v4_, tcp_v6_;
  std::unordered_map<int, std::unique_ptr<TcpClient>> tcp_clients_;
  size_t pending_ = 0;  // questions waiting for the upstream
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace airlock::egress
