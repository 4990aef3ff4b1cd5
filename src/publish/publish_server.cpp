#include "publish/publish_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "common/errno_text.h"
#include "common/unix_address.h"
#include "control/peer_check.h"
#include "egress/event_loop.h"
#include "egress/pipe_pool.h"
#include "egress/proxy_context.h"
#include "egress/socket_owner.h"
#include "egress/stream_relay.h"

namespace airlock::publish {
namespace {

using egress::EventLoop;

constexpr size_t kMaxConnections = 1024;
constexpr auto kConnectTimeout = std::chrono::seconds(5);
// An agent's API may hold a quiet stream open (server-sent events) for a long time; the peer
// or the agent ends it, or the sandbox does.
constexpr auto kIdleTimeout = std::chrono::hours(24);

std::string destination_of(const PublishTarget& target) {
  return target.rule.port != 0 ? fmt::format("127.0.0.1:{}", target.rule.port)
                               : "unix:" + target.rule.unix_path;
}

// The link fields every link event carries: who links to whom, on which port.
nlohmann::json link_fields(const PublishTarget& target) {
  return {{"from", target.link_from}, {"to", target.link_to}, {"port", target.rule.port}};
}

const char* open_event(CrossingKind kind) {
  switch (kind) {
    case CrossingKind::publish:
      return "publish.connect";
    case CrossingKind::link_in:
      return "link.accept";
    case CrossingKind::link_out:
      return "link.connect";
  }
  return "publish.connect";
}

// A listener on the link's loopback address inside the sandbox (a socket made there).
Result<UniqueFd> listen_inside(InnerSocketMaker& maker, const PublishTarget& target) {
  Result<UniqueFd> made = maker.tcp_socket();
  if (!made) return made.error();
  UniqueFd listener = std::move(made).value();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(target.rule.port);
  if (::inet_pton(AF_INET, target.link_address.c_str(), &address.sin_addr) != 1) {
    return Error{"link " + target.link_name + ": '" + target.link_address +
                 "' is not an IPv4 address"};
  }
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener.get(), 128) != 0) {
    return Error{fmt::format("cannot listen on {}:{} inside the sandbox for the link to {}: {}",
                             target.link_address, target.rule.port, target.link_to,
                             errno_text(errno))};
  }
  return listener;
}

nlohmann::json peer_json(const std::optional<control::Peer>& peer) {
  if (!peer) return nullptr;
  return {{"uid", peer->uid}, {"gid", peer->gid}, {"pid", peer->pid}, {"exe", peer->exe}};
}

// Starts a non-blocking connect; 0, EINPROGRESS, or the error.
int start_connect(int fd, const sockaddr* address, socklen_t length) {
  if (::connect(fd, address, length) == 0) return 0;
  return errno == EAGAIN ? EAGAIN : errno;
}

}  // namespace

std::string link_socket_path(const std::string& control_directory, const std::string& to,
                             const std::string& from, uint16_t port) {
  return fmt::format("{}/{}.link-from.{}.{}", control_directory, to, from, port);
}

std::vector<sandbox::LinkHost> link_hosts(const std::vector<PublishTarget>& links) {
  std::vector<sandbox::LinkHost> hosts;
  for (const PublishTarget& link : links) {
    if (link.kind != CrossingKind::link_out) continue;
    const bool known = std::any_of(hosts.begin(), hosts.end(), [&](const sandbox::LinkHost& host) {
      return host.name == link.link_name;
    });
    if (!known) hosts.push_back({link.link_name, link.link_address});
  }
  return hosts;
}

struct PublishServer::State {
  // One accepted peer: connecting inside, then relayed.
  struct Connection final : EventLoop::Handler {
    State* state = nullptr;
    uint64_t id = 0;
    size_t target = 0;
    std::optional<control::Peer> peer;
    std::string client_endpoint;  // link_out: the sandbox process's side, "127.0.0.1:40112"
    std::optional<egress::SocketOwner> process;  // link_out: the process holding it, if found
    UniqueFd client;
    UniqueFd upstream;  // until the relay takes it
    uint64_t timer = 0;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::unique_ptr<egress::StreamRelay> relay;

    void on_ready(int fd, uint32_t /*events*/) override {  // the inner connect finished
      int error = 0;
      socklen_t length = sizeof error;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
      state->connected(*this, error);
    }
  };

  // A host socket's listener, or a link's listener inside.
  struct Listener final : EventLoop::Handler {
    State* state = nullptr;
    size_t target = 0;
    int fd = -1;
    void on_ready(int /*fd*/, uint32_t /*events*/) override {
      for (int i = 0; i < 64; ++i) {
        UniqueFd client(::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!client.valid()) return;  // EAGAIN, or out of descriptors: the backlog waits
        state->accepted(target, std::move(client));
      }
    }
  };

  State(std::unique_ptr<EventLoop> event_loop, const audit::AuditLog& log)
      : loop(std::move(event_loop)), audit(log) {}

  std::unique_ptr<EventLoop> loop;
  egress::PipePool pipes;
  const audit::AuditLog& audit;
  std::vector<PublishTarget> targets;
  std::vector<HostSocket> sockets;       // publish, link_in
  std::vector<UniqueFd> inside_sockets;  // link_out
  std::optional<InnerSocketMaker> maker;
  // link_out: who in the sandbox made a connection (egress/socket_owner.h).
  UniqueFd sock_diag;
  std::optional<egress::PidNamespaceId> sandbox_pid_namespace;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections;
  uint64_t next_id = 1;

  void record_connect(const Connection& connection, const std::string& decision,
                      const std::string& reason) const {
    const PublishTarget& target = targets[connection.target];
    nlohmann::json fields;
    if (target.kind == CrossingKind::publish) {
      fields = {{"socket", target.rule.unix_path},
                {"to", destination_of(target)},
                {"peer", peer_json(connection.peer)}};
    } else {
      fields = link_fields(target);
      if (target.kind == CrossingKind::link_in) fields["peer"] = peer_json(connection.peer);
      if (target.kind == CrossingKind::link_out) {
        fields["name"] = target.link_name;
        fields["client"] = connection.client_endpoint;
        fields["process"] =
            connection.process ? egress::owner_json(*connection.process) : nlohmann::json(nullptr);
      }
    }
    fields["connection"] = connection.id;
    fields["decision"] = decision;
    if (!reason.empty()) fields["reason"] = reason;
    audit.record(open_event(target.kind), fields);
  }

  void accepted(size_t target, UniqueFd client) {
    auto connection = std::make_unique<Connection>();
    connection->state = this;
    connection->id = next_id++;
    connection->target = target;
    connection->client = std::move(client);
    if (targets[target].kind == CrossingKind::link_out) {
      // From inside the sandbox: what the link allows is the address and port it listens on.
      sockaddr_storage peer{};
      socklen_t length = sizeof peer;
      if (::getpeername(connection->client.get(), reinterpret_cast<sockaddr*>(&peer), &length) ==
          0) {
        char text[INET_ADDRSTRLEN] = "?";
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer);
        ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        connection->client_endpoint = fmt::format("{}:{}", text, ntohs(v4->sin_port));
        connection->process = link_client_process(peer);
      }
    } else {
      const control::PeerDecision decision =
          control::check_peer(connection->client.get(), targets[target].rule.uids);
      connection->peer = decision.peer;
      if (!decision.refusal.empty()) {
        record_connect(*connection, "deny", decision.refusal);
        return;  // closed here: the peer reads EOF
      }
    }
    if (connections.size() >= kMaxConnections) {
      record_connect(*connection, "deny",
                     fmt::format("{} connections are open already", kMaxConnections));
      return;
    }
    Connection& raw = *connection;
    connections.emplace(raw.id, std::move(connection));
    connect_inside(raw);
  }

  std::optional<egress::SocketOwner> link_client_process(const sockaddr_storage& peer) const {
    if (!sock_diag.valid() || !sandbox_pid_namespace) return std::nullopt;
    return egress::find_socket_owner(sock_diag.get(), peer, *sandbox_pid_namespace);
  }

  void connect_inside(Connection& connection) {
    const PublishTarget& target = targets[connection.target];
    int error = 0;
    if (target.kind == CrossingKind::link_out) {
      connection.upstream.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!connection.upstream.valid()) return give_up(connection, "socket: " + errno_text(errno));
      const std::optional<sockaddr_un> address = unix_address(target.rule.unix_path);
      if (!address) return give_up(connection, "the link's socket path is too long");
      error = start_connect(connection.upstream.get(), reinterpret_cast<const sockaddr*>(&*address),
                            sizeof *address);
    } else if (target.rule.port != 0) {
      Result<UniqueFd> made = maker->tcp_socket();
      if (!made) return give_up(connection, made.error().message);
      connection.upstream = std::move(made).value();
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(target.rule.port);
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      error = start_connect(connection.upstream.get(), reinterpret_cast<sockaddr*>(&address),
                            sizeof address);
    } else {
      connection.upstream.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!connection.upstream.valid()) return give_up(connection, "socket: " + errno_text(errno));
      const std::optional<sockaddr_un> address = unix_address(target.inner_socket);
      if (!address) return give_up(connection, "the agent's socket path is too long");
      error = start_connect(connection.upstream.get(), reinterpret_cast<const sockaddr*>(&*address),
                            sizeof *address);
    }
    if (error != EINPROGRESS) return connected(connection, error);
    if (Status watched = loop->watch(connection.upstream.get(), EPOLLOUT, &connection); !watched) {
      return give_up(connection, watched.error().message);
    }
    const uint64_t id = connection.id;
    connection.timer = loop->add_timer(EventLoop::Clock::now() + kConnectTimeout, [this, id] {
      auto found = connections.find(id);
      if (found == connections.end()) return;
      found->second->timer = 0;
      give_up(*found->second, "no answer within 5 s");
    });
  }

  void connected(Connection& connection, int error) {
    if (connection.timer != 0) loop->cancel_timer(connection.timer);
    connection.timer = 0;
    const PublishTarget& target = targets[connection.target];
    if (error != 0 && target.kind == CrossingKind::link_out) {
      return give_up(connection, target.link_to + " is not running or not accepting the link (" +
                                     errno_text(error) + ")");
    }
    if (error != 0) {
      const std::string what = target.rule.port != 0
                                   ? fmt::format(
                                         "nothing accepts on 127.0.0.1:{} inside the "
                                         "sandbox",
                                         target.rule.port)
                                   : "the agent's socket " + target.rule.unix_path +
                                         " is not there or not accepting inside the sandbox";
      return give_up(connection, what + " (" + errno_text(error) + ")");
    }
    record_connect(connection, "allow", "");
    const uint64_t id = connection.id;
    connection.relay = std::make_unique<egress::StreamRelay>(
        *loop, pipes, std::move(connection.client), std::move(connection.upstream),
        std::chrono::duration_cast<std::chrono::seconds>(kIdleTimeout), nullptr,
        [this, id](const egress::RelayTotals& totals) { closed(id, totals); });
    connection.relay->start("", "", "");
  }

  void give_up(Connection& connection, const std::string& why) {
    record_connect(connection, "error", why);
    if (connection.upstream.valid()) loop->forget(connection.upstream.get());
    const uint64_t id = connection.id;
    loop->defer([this, id] { connections.erase(id); });
  }

  void record_close(const Connection& connection, const egress::RelayTotals& totals) const {
    using namespace std::chrono;
    const PublishTarget& target = targets[connection.target];
    nlohmann::json fields = target.kind == CrossingKind::publish
                                ? nlohmann::json{{"socket", target.rule.unix_path}}
                                : link_fields(target);
    fields["connection"] = connection.id;
    // publish and link_in: the host peer -> the sandbox; link_out: the sandbox -> the link.
    fields["bytes_in"] = totals.bytes_up;
    fields["bytes_out"] = totals.bytes_down;
    fields["duration_ms"] =
        duration_cast<milliseconds>(steady_clock::now() - connection.started).count();
    fields["ended_by"] = totals.ended_by;
    audit.record(target.kind == CrossingKind::publish ? "publish.close" : "link.close", fields);
  }

  void closed(uint64_t id, const egress::RelayTotals& totals) {
    auto found = connections.find(id);
    if (found == connections.end()) return;
    record_close(*found->second, totals);
    loop->defer([this, id] { connections.erase(id); });
  }
};

PublishServer::PublishServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

PublishServer::~PublishServer() {
  // What can throw in stop() is building a close event, after the thread has been joined: the
  // event is lost, and state_'s destructor still removes the sockets and reaps the helper.
  try {
    stop();
  } catch (const std::exception&) {
  }
}

Result<std::unique_ptr<PublishServer>> PublishServer::create(std::vector<PublishTarget> targets,
                                                             pid_t sandbox_pid,
                                                             bool join_user_namespace,
                                                             const audit::AuditLog& audit) {
  Result<std::unique_ptr<EventLoop>> loop = EventLoop::create();
  if (!loop) return loop.error();
  auto state = std::make_unique<State>(std::move(loop).value(), audit);
  bool any_port = false;
  for (const PublishTarget& target : targets) any_port = any_port || target.rule.port != 0;
  if (any_port) {
    Result<InnerSocketMaker> maker = InnerSocketMaker::start(sandbox_pid, join_user_namespace);
    if (!maker)
      return Error{"cannot reach the sandbox's network for publish: " + maker.error().message};
    state->maker.emplace(std::move(maker).value());
  }
  std::vector<int> listening;  // parallel to targets
  for (const PublishTarget& target : targets) {
    if (target.kind == CrossingKind::link_out) {
      if (!state->sock_diag.valid()) {
        // Naming the process is best effort, as in the egress proxy: a link works without it.
        if (Result<UniqueFd> diag = state->maker->sock_diag_socket())
          state->sock_diag = std::move(diag).value();
        state->sandbox_pid_namespace = egress::pid_namespace_of(sandbox_pid);
      }
      Result<UniqueFd> listener = listen_inside(*state->maker, target);
      if (!listener) return listener.error();
      listening.push_back(listener->get());
      state->inside_sockets.push_back(std::move(listener).value());
      continue;
    }
    Result<HostSocket> socket = HostSocket::listen(target.rule.unix_path, target.rule.mode);
    if (!socket) return socket.error();  // the ones already bound are removed with `state`
    listening.push_back(socket->fd());
    state->sockets.push_back(std::move(socket).value());
  }
  state->targets = std::move(targets);
  for (size_t i = 0; i < listening.size(); ++i) {
    auto listener = std::make_unique<State::Listener>();
    listener->state = state.get();
    listener->target = i;
    listener->fd = listening[i];
    if (Status watched = state->loop->watch(listener->fd, EPOLLIN, listener.get()); !watched) {
      return watched.error();
    }
    state->listeners.push_back(std::move(listener));
  }
  return std::unique_ptr<PublishServer>(new PublishServer(std::move(state)));
}

void PublishServer::start() {
  thread_ = state_->loop->run_on_thread();
}

void PublishServer::stop() {
  if (!state_) return;
  state_->loop->stop();
  if (thread_.joinable()) thread_.join();
  // The loop has stopped: nothing else touches the connections now.
  for (auto& [id, connection] : state_->connections) {
    if (!connection->relay) continue;
    connection->relay->abort();
    egress::RelayTotals totals = connection->relay->totals();
    totals.ended_by = "sandbox ended";
    state_->record_close(*connection, totals);
  }
  state_->connections.clear();
  state_->listeners.clear();
  state_.reset();  // host sockets removed, the socket maker's helper reaped
}

}  // namespace airlock::publish
