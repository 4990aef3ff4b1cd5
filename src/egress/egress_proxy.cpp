#include "egress/egress_proxy.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "egress/destination_policy.h"
#include "egress/dns_map.h"
#include "egress/dns_resolver.h"
#include "egress/dns_stub.h"
#include "egress/event_loop.h"
#include "egress/proxy_context.h"
#include "egress/tcp_session.h"
#include "policy/network_rule.h"

namespace airlock::egress {

// Accepts on one TCP listener and hands each connection to a new session.
class Acceptor final : public EventLoop::Handler {
 public:
  using OnClient = std::function<void(UniqueFd, const sockaddr_storage&)>;
  Acceptor(EventLoop& loop, UniqueFd listener, OnClient on_client)
      : loop_(loop), listener_(std::move(listener)), on_client_(std::move(on_client)) {}
  ~Acceptor() {
    if (pause_timer_ != 0) loop_.cancel_timer(pause_timer_);
  }
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  int fd() const { return listener_.get(); }
  void on_ready(int /*fd*/, uint32_t /*events*/) override {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage peer{};
      socklen_t length = sizeof peer;
      UniqueFd client(::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                                SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!client.valid()) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause();
        return;  // EAGAIN: nothing more waiting
      }
      // Writes to the sandbox go out as they come: without this, Nagle holds a small write
      // behind an unacknowledged one for the client's delayed ACK (up to 40 ms), e.g. the first
      // response after a TLS handshake or each event of a stream (bench/intercept.sh).
      int one = 1;
      ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      on_client_(std::move(client), peer);
    }
  }

 private:
  // Out of descriptors: a level-triggered listener would wake the loop forever. Stop listening
  // for a moment; the kernel's backlog holds the clients meanwhile.
  void pause() {
    if (pause_timer_ != 0) return;
    loop_.modify(listener_.get(), 0);
    pause_timer_ =
        loop_.add_timer(EventLoop::Clock::now() + std::chrono::milliseconds(100), [this] {
          pause_timer_ = 0;
          loop_.modify(listener_.get(), EPOLLIN);
        });
  }

  EventLoop& loop_;
  UniqueFd listener_;
  OnClient on_client_;
  uint64_t pause_timer_ = 0;
};

struct EgressProxy::State {
  State(std::unique_ptr<EventLoop> event_loop, const policy::NetworkPolicy& network,
        const audit::AuditLog& audit_log, ObserveMode observe)
      : loop(std::move(event_loop)),
        policy(network, observe),
        audit(audit_log),
        max_connections(network.max_connections) {}

  std::unique_ptr<EventLoop> loop;
  PipePool pipes;
  DestinationPolicy policy;
  DnsMap dns_map;
  SyntheticAddresses synthetic;
  std::map<std::string, IpAddress> link_names;
  EgressCounters counters;
  const audit::AuditLog& audit;
  uint32_t max_connections;
  std::unique_ptr<DnsResolver> resolver;
  std::unique_ptr<ProxyContext> context;
  std::unique_ptr<DnsStub> stub;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::unordered_map<uint64_t, std::unique_ptr<TcpSession>> sessions;
  uint64_t next_session = 1;
  UniqueFd sock_diag;

  void on_client(Via via, UniqueFd client, const sockaddr_storage& peer) {
    const uint64_t id = next_session++;
    const bool over_limit = sessions.size() >= max_connections;
    auto session = std::make_unique<TcpSession>(*context, id, via, std::move(client), peer);
    TcpSession* raw = session.get();
    sessions.emplace(id, std::move(session));
    if (over_limit) {
      raw->refuse_over_limit(max_connections);
    } else {
      raw->start();
    }
  }
};

Result<std::unique_ptr<EgressProxy>> EgressProxy::create(
    SandboxListeners listeners, const policy::NetworkPolicy& network, const audit::AuditLog& audit,
    pid_t sandbox_pid, credentials::CredentialVault* credentials,
    intercept::Interception* interception, ObserveMode observe,
    std::map<std::string, IpAddress> link_names) {
  Result<std::unique_ptr<EventLoop>> loop = EventLoop::create();
  if (!loop) return loop.error();
  auto state = std::make_unique<State>(std::move(loop).value(), network, audit, observe);
  std::string upstream;
  if (network.dns_upstream) {
    std::optional<policy::DnsUpstream> parsed = policy::parse_dns_upstream(*network.dns_upstream);
    if (!parsed) return Error{"network dns_upstream " + *network.dns_upstream + " is not valid"};
    upstream = parsed->address.find(':') != std::string::npos
                   ? "[" + parsed->address + "]:" + std::to_string(parsed->port)
                   : parsed->address + ":" + std::to_string(parsed->port);
  }
  Result<std::unique_ptr<DnsResolver>> resolver = DnsResolver::create(*state->loop, upstream);
  if (!resolver) return resolver.error();
  state->resolver = std::move(resolver).value();
  state->sock_diag = std::move(listeners.sock_diag);
  State* raw = state.get();
  state->context.reset(new ProxyContext{
      *state->loop, state->pipes, *state->resolver, state->policy, state->dns_map, audit,
      state->sock_diag.get(), pid_namespace_of(sandbox_pid),
      [raw](uint64_t id) { return raw->sessions.count(id) != 0; },
      [raw](uint64_t id) { raw->loop->defer([raw, id] { raw->sessions.erase(id); }); }, credentials,
      interception, observe == ObserveMode::deny ? &state->synthetic : nullptr, &state->counters});
  state->link_names = std::move(link_names);
  state->context->link_names = &state->link_names;
  state->stub = std::make_unique<DnsStub>(
      *state->context, std::move(listeners.dns_udp_v4), std::move(listeners.dns_udp_v6),
      std::move(listeners.dns_tcp_v4), std::move(listeners.dns_tcp_v6));
  if (Status started = state->stub->start(); !started) return started.error();
  const std::pair<UniqueFd*, Via> kListeners[] = {
      {&listeners.transparent_v4, Via::transparent},
      {&listeners.transparent_v6, Via::transparent},
      {&listeners.http_proxy, Via::http_proxy},
      {&listeners.socks5, Via::socks5},
  };
  for (const auto& [fd, via] : kListeners) {
    if (!fd->valid()) continue;
    Via kind = via;
    auto acceptor = std::make_unique<Acceptor>(
        *state->loop, std::move(*fd), [raw, kind](UniqueFd client, const sockaddr_storage& peer) {
          raw->on_client(kind, std::move(client), peer);
        });
    if (Status watched = state->loop->watch(acceptor->fd(), EPOLLIN, acceptor.get()); !watched)
      return watched.error();
    state->acceptors.push_back(std::move(acceptor));
  }
  return std::unique_ptr<EgressProxy>(new EgressProxy(std::move(state)));
}

EgressProxy::EgressProxy(std::unique_ptr<State> state) : state_(std::move(state)) {}

EgressProxy::~EgressProxy() {
  stop();
}

const EgressCounters& EgressProxy::counters() const {
  return state_->counters;
}

void EgressProxy::start() {
  thread_ = state_->loop->run_on_thread();
}

void EgressProxy::stop() {
  if (!state_) return;
  state_->loop->stop();
  if (thread_.joinable()) thread_.join();
  // The loop has stopped: nothing else touches the sessions now.
  std::vector<TcpSession*> open;
  for (auto& [id, session] : state_->sessions) open.push_back(session.get());
  for (TcpSession* session : open) session->shut_down();
  state_->sessions.clear();
  state_->acceptors.clear();
  state_->stub.reset();
  state_->resolver.reset();  // pending callbacks run now and find their sessions gone
  state_.reset();
}

}  // namespace airlock::egress
