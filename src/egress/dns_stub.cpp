#include "egress/dns_stub.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <span>

#include <fmt/format.h>

#include "egress/host_name.h"
#include "wire/dns_message.h"

namespace airlock::egress {
namespace {

constexpr size_t kMaxPending = 512;  // questions in flight upstream, for one sandbox
constexpr size_t kMaxTcpClients = 64;
constexpr size_t kMaxTcpBuffer = 65535 + 2;
constexpr uint32_t kMaxTtl = 300;
// A synthetic answer stays the same for the whole run; a short TTL keeps no cache guessing.
constexpr uint32_t kSyntheticTtl = 60;

std::string type_name(uint16_t type) {
  switch (type) {
    case dns_type::a:
      return "A";
    case dns_type::aaaa:
      return "AAAA";
    case dns_type::txt:
      return "TXT";
    case dns_type::any:
      return "ANY";
    default:
      return "TYPE" + std::to_string(type);
  }
}

}  // namespace

struct DnsStub::TcpClient {
  UniqueFd fd;
  sockaddr_storage peer{};
  std::string buffer;
  EventLoop::Clock::time_point last_activity;
};

DnsStub::DnsStub(ProxyContext& context, UniqueFd udp_v4, UniqueFd udp_v6, UniqueFd tcp_v4,
                 UniqueFd tcp_v6)
    : context_(context),
      udp_v4_(std::move(udp_v4)),
      udp_v6_(std::move(udp_v6)),
      tcp_v4_(std::move(tcp_v4)),
      tcp_v6_(std::move(tcp_v6)) {}

DnsStub::~DnsStub() {
  *alive_ = false;
  for (auto& [fd, client] : tcp_clients_) context_.loop.forget(fd);
  for (const UniqueFd* fd : {&udp_v4_, &udp_v6_, &tcp_v4_, &tcp_v6_}) {
    if (fd->valid()) context_.loop.forget(fd->get());
  }
}

Status DnsStub::start() {
  for (const UniqueFd* fd : {&udp_v4_, &udp_v6_, &tcp_v4_, &tcp_v6_}) {
    if (!fd->valid()) continue;
    if (Status watched = context_.loop.watch(fd->get(), EPOLLIN, this); !watched) return watched;
  }
  return ok_status();
}

void DnsStub::on_ready(int fd, uint32_t events) {
  if (fd == udp_v4_.get() || fd == udp_v6_.get()) {
    read_udp(fd);
  } else if (fd == tcp_v4_.get() || fd == tcp_v6_.get()) {
    accept_tcp(fd);
  } else if (auto found = tcp_clients_.find(fd); found != tcp_clients_.end()) {
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) read_tcp(*found->second);
  }
}

void DnsStub::read_udp(int fd) {
  for (int i = 0; i < 64; ++i) {
    uint8_t message[4096];
    sockaddr_storage client{};
    socklen_t length = sizeof client;
    ssize_t n = ::recvfrom(fd, message, sizeof message, MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&client), &length);
    if (n < 0) return;
    answer(message, static_cast<size_t>(n), client,
           [fd, client, length](const std::vector<uint8_t>& reply) {
             ::sendto(fd, reply.data(), reply.size(), MSG_DONTWAIT,
                      reinterpret_cast<const sockaddr*>(&client), length);
           });
  }
}

void DnsStub::accept_tcp(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  UniqueFd client(
      ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!client.valid()) return;
  if (tcp_clients_.size() >= kMaxTcpClients) return;  // closed: the client retries or gives up
  auto entry = std::make_unique<TcpClient>();
  entry->fd = std::move(client);
  entry->peer = peer;
  entry->last_activity = EventLoop::Clock::now();
  int key = entry->fd.get();
  if (!context_.loop.watch(key, EPOLLIN, this)) return;
  tcp_clients_.emplace(key, std::move(entry));
  std::weak_ptr<bool> alive = alive_;
  context_.loop.add_timer(EventLoop::Clock::now() + std::chrono::seconds(10), [this, alive, key] {
    if (alive.expired() || !*alive.lock()) return;
    close_tcp(key);  // RFC 7766 lets a server close idle connections; 10 s is generous
  });
}

void DnsStub::close_tcp(int fd) {
  auto found = tcp_clients_.find(fd);
  if (found == tcp_clients_.end()) return;
  context_.loop.forget(fd);
  // Destroyed after this batch of events, so the fd number is not reused within it.
  std::shared_ptr<TcpClient> client(found->second.release());
  tcp_clients_.erase(found);
  context_.loop.defer([client] {});
}

void DnsStub::read_tcp(TcpClient& client) {
  char chunk[4096];
  ssize_t n = ::recv(client.fd.get(), chunk, sizeof chunk, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    close_tcp(client.fd.get());
    return;
  }
  if (n < 0) return;
  client.buffer.append(chunk, static_cast<size_t>(n));
  if (client.buffer.size() > kMaxTcpBuffer * 2) {
    close_tcp(client.fd.get());
    return;
  }
  while (client.buffer.size() >= 2) {
    size_t length =
        (static_cast<uint8_t>(client.buffer[0]) << 8) | static_cast<uint8_t>(client.buffer[1]);
    if (client.buffer.size() < 2 + length) break;
    std::string message = client.buffer.substr(2, length);
    client.buffer.erase(0, 2 + length);
    const int key = client.fd.get();
    std::weak_ptr<bool> alive = alive_;
    answer(reinterpret_cast<const uint8_t*>(message.data()), message.size(), client.peer,
           [this, alive, key](const std::vector<uint8_t>& reply) {
             if (alive.expired() || !*alive.lock()) return;
             auto found = tcp_clients_.find(key);
             if (found == tcp_clients_.end()) return;
             std::string framed;
             framed += static_cast<char>(reply.size() >> 8);
             framed += static_cast<char>(reply.size() & 0xff);
             framed.append(reinterpret_cast<const char*>(reply.data()), reply.size());
             ::send(key, framed.data(), framed.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
           });
  }
}

void DnsStub::answer(const uint8_t* message, size_t length, const sockaddr_storage& client,
                     const Reply& reply) {
  DnsQueryParse parsed = parse_dns_query(std::span<const uint8_t>(message, length));
  nlohmann::json fields = {{"via", "dns"}, {"client", endpoint_text(client)}};
  auto decide = [&](const char* decision, const std::string& reason) {
    fields["decision"] = decision;
    fields["reason"] = reason;
    context_.audit.record("egress.decision", fields);
  };
  if (parsed.status != ParseStatus::complete) {
    if (parsed.id) reply(build_dns_error(*parsed.id, dns_rcode::formerr));
    decide("deny", "malformed DNS query: " + parsed.problem);
    return;
  }
  const DnsQuery query = parsed.query;
  fields["host"] = query.name;
  fields["type"] = type_name(query.type);
  Result<NormalisedHost> name = query.name_is_hostname
                                    ? normalise_host(query.name)
                                    : Result<NormalisedHost>(Error{"not a host name"});
  if (!name || name->address) {
    reply(build_dns_response(query, dns_rcode::nxdomain, {}, 0));
    decide("deny", "not a host name");
    return;
  }
  fields["host"] = name->text;
  if (context_.link_names != nullptr) {
    auto link = context_.link_names->find(name->text);
    if (link != context_.link_names->end()) {
      // The name exists here: A gets the link's address, any other type an empty answer.
      std::vector<IpAddress> answers;
      if (query.type == dns_type::a) answers.push_back(link->second);
      fields["answers"] = query.type == dns_type::a ? nlohmann::json{link->second.to_string()}
                                                    : nlohmann::json::array();
      fields["link"] = true;
      reply(build_dns_response(query, dns_rcode::noerror, answers, kSyntheticTtl));
      decide("allow", "a link of this sandbox's stack: only its linked ports lead anywhere");
      return;
    }
  }
  if (!context_.policy.name_may_resolve(name->text) && context_.synthetic != nullptr &&
      (query.type == dns_type::a || query.type == dns_type::aaaa)) {
    // observe: an A question gets the name's own made-up address, AAAA an empty answer (so the
    // client uses the A record); the connection that follows is recorded, then refused.
    std::vector<IpAddress> answers;
    if (query.type == dns_type::a) {
      if (std::optional<IpAddress> address = context_.synthetic->address_for(name->text)) {
        context_.dns_map.remember(*address, name->text);
        answers.push_back(*address);
        fields["answers"] = {address->to_string()};
      }
    }
    fields["synthetic"] = true;
    reply(build_dns_response(query, dns_rcode::noerror, answers, kSyntheticTtl));
    decide("deny",
           "no rule for this name (observe: answered with a synthetic address; nothing "
           "was asked upstream)");
    return;
  }
  if (!context_.policy.name_may_resolve(name->text)) {
    reply(build_dns_response(query, dns_rcode::nxdomain, {}, 0));
    decide("deny", "no rule for this name (answered NXDOMAIN; nothing was asked upstream)");
    return;
  }
  if (query.type != dns_type::a && query.type != dns_type::aaaa) {
    reply(build_dns_response(query, dns_rcode::refused, {}, 0));
    decide("deny", "record type " + type_name(query.type) + " is refused (only A and AAAA)");
    return;
  }
  if (name->text == "localhost") {
    reply(build_dns_response(query, dns_rcode::noerror,
                             {*IpAddress::parse(query.type == dns_type::a ? "127.0.0.1" : "::1")},
                             0));
    decide("allow", "localhost is the sandbox's own loopback");
    return;
  }
  if (pending_ >= kMaxPending) {
    reply(build_dns_response(query, dns_rcode::servfail, {}, 0));
    decide("deny", "too many DNS questions in flight");
    return;
  }
  ++pending_;
  std::weak_ptr<bool> alive = alive_;
  const std::string host = name->text;
  context_.resolver.resolve(
      host, query.type == dns_type::a ? AF_INET : AF_INET6,
      [this, alive, query, host, fields, reply](const Resolution& resolution) mutable {
        if (alive.expired() || !*alive.lock()) return;
        --pending_;
        auto record = [&](const char* decision, const std::string& reason) {
          fields["decision"] = decision;
          fields["reason"] = reason;
          context_.audit.record("egress.decision", fields);
        };
        if (!resolution.error.empty()) {
          reply(build_dns_response(query, dns_rcode::servfail, {}, 0));
          record("deny", "upstream resolution failed: " + resolution.error);
          return;
        }
        FilteredAddresses filtered = context_.policy.filter_resolved(resolution.addresses, {});
        nlohmann::json answers = nlohmann::json::array();
        for (const IpAddress& address : filtered.allowed) {
          context_.dns_map.remember(address, host);
          answers.push_back(address.to_string());
        }
        fields["answers"] = answers;
        if (!filtered.refused.empty()) {
          nlohmann::json refused = nlohmann::json::array();
          for (const RefusedAddress& entry : filtered.refused) refused.push_back(entry.reason);
          fields["refused"] = refused;
        }
        if (filtered.allowed.empty() && !filtered.refused.empty()) {
          reply(build_dns_response(query, dns_rcode::refused, {}, 0));
          record("deny", filtered.refused.front().reason);
          return;
        }
        uint32_t ttl = std::min(resolution.ttl, kMaxTtl);
        reply(build_dns_response(query, dns_rcode::noerror, filtered.allowed, ttl));
        record("allow", resolution.addresses.empty() ? "no such name upstream" : "allowed");
      });
}

}  // namespace airlock::egress
