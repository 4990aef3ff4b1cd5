#include "control/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "audit/audit_log.h"
#include "audit/event_tap.h"
#include "common/errno_text.h"
#include "common/fd_message.h"
#include "common/unix_address.h"
#include "control/control_directory.h"
#include "control/json_lines.h"
#include "control/listening_ports.h"
#include "control/peer_check.h"
#include "egress/egress_counters.h"
#include "sandbox/session_channel.h"

namespace airlock::control {
namespace {

using sandbox::SessionEvent;
using sandbox::SessionEventKind;
using sandbox::SessionRequest;
using sandbox::SessionRequestKind;
using Clock = std::chrono::steady_clock;

constexpr auto kDefaultStopGrace = std::chrono::seconds(10);

// "K=V" entries of `base` with those of `overrides` replacing the same K, or appended.
std::vector<std::string> merged_environment(const std::vector<std::string>& base,
                                            const std::vector<std::string>& overrides) {
  std::vector<std::string> merged = base;
  for (const std::string& entry : overrides) {
    const std::string key = entry.substr(0, entry.find('=') + 1);
    bool replaced = false;
    for (std::string& existing : merged) {
      if (existing.compare(0, key.size(), key) == 0) {
        existing = entry;
        replaced = true;
      }
    }
    if (!replaced) merged.push_back(entry);
  }
  return merged;
}

std::string exec_failure_text(const std::string& program, const SessionEvent& event,
                              const std::string& cwd) {
  switch (event.step) {
    case 1:
      return fmt::format("cannot change to {}: {}", cwd, errno_text(event.value));
    case 3:
      return fmt::format("the session already runs {} commands; wait for one to end",
                         sandbox::kSessionCommandsMax);
    case 4:
      return "the session refused a malformed request";
    default:
      return fmt::format("cannot execute {}: {}", program, errno_text(event.value));
  }
}

}  // namespace

struct ControlServer::Loop {
  struct Connection {
    UniqueFd fd;
    Peer peer;
    LineReader reader;
    std::optional<uint32_t> exec_request;  // the command this connection runs, if any
    bool following = false;                // `logs` with follow: the event tap writes to it
  };
  struct RunningExec {
    int connection = -1;  // the connection's fd, or -1 once the client is gone
    std::string program;
    std::string cwd;
    Clock::time_point started;
  };

  Loop(SandboxSummary sandbox_summary, ControlHooks control_hooks, const audit::AuditLog& log)
      : summary(std::move(sandbox_summary)), hooks(std::move(control_hooks)), audit(log) {}

  ~Loop() {
    // The tap outlives us (the proxy still records while the sandbox ends): no stale descriptor.
    for (const auto& [fd, connection] : connections) {
      if (connection.following && hooks.events) hooks.events->unsubscribe(fd);
    }
  }

  SandboxSummary summary;
  ControlHooks hooks;
  const audit::AuditLog& audit;
  std::map<int, Connection> connections;
  std::map<uint32_t, RunningExec> execs;
  uint32_t next_request = 1;
  std::optional<Clock::time_point> kill_at;  // set by `stop`: SIGKILL after the grace

  void serve(int listener, int wake) {
    for (;;) {
      std::vector<pollfd> fds = {{wake, POLLIN, 0}, {listener, POLLIN, 0}};
      if (hooks.session_channel >= 0) fds.push_back({hooks.session_channel, POLLIN, 0});
      const size_t first_connection = fds.size();
      for (const auto& [fd, connection] : connections) fds.push_back({fd, POLLIN, 0});
      int timeout = -1;
      if (kill_at) {
        timeout = static_cast<int>(std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(*kill_at - Clock::now())
                   .count()));
      }
      const int ready = ::poll(fds.data(), fds.size(), timeout);
      if (ready < 0 && errno == EINTR) continue;
      if (kill_at && Clock::now() >= *kill_at) {
        ::kill(summary.sandbox_pid, SIGKILL);  // the whole pid namespace goes with its init
        kill_at.reset();
      }
      if (ready <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) return;
      if ((fds[1].revents & POLLIN) != 0) accept_one(listener);
      if (hooks.session_channel >= 0 && (fds[2].revents & (POLLIN | POLLHUP)) != 0)
        on_session_event();
      for (size_t i = first_connection; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) on_readable(fds[i].fd);
      }
    }
  }

  void accept_one(int listener) {
    UniqueFd accepted(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (!accepted.valid()) return;
    const PeerDecision decision = check_peer(accepted.get());
    if (!decision.refusal.empty()) {
      nlohmann::json fields = {{"reason", decision.refusal}};
      if (decision.peer) {
        fields["peer"] = {
            {"uid", decision.peer->uid}, {"pid", decision.peer->pid}, {"exe", decision.peer->exe}};
      }
      audit.record("control.refused", fields);
      send_line(accepted.get(), {{"ok", false}, {"error", "refused: " + decision.refusal}});
      return;
    }
    // A client that stops reading cannot stall the other connections for long.
    const timeval send_timeout{2, 0};
    ::setsockopt(accepted.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    const int fd = accepted.get();
    Connection& connection = connections[fd];
    connection.fd = std::move(accepted);
    connection.peer = *decision.peer;
  }

  void close_connection(int fd) {
    auto found = connections.find(fd);
    if (found == connections.end()) return;
    if (found->second.following && hooks.events) hooks.events->unsubscribe(fd);
    if (found->second.exec_request) {
      auto running = execs.find(*found->second.exec_request);
      if (running != execs.end()) {
        // The client went away: its command goes too (it has no one to talk to).
        running->second.connection = -1;
        send_request(SessionRequest{SessionRequestKind::signal, running->first, SIGKILL, 0, 0, 0});
      }
    }
    connections.erase(found);
  }

  void on_readable(int fd) {
    Connection& connection = connections.at(fd);
    const LineReader::Fill filled = connection.reader.fill(fd);
    if (filled == LineReader::Fill::closed || filled == LineReader::Fill::failed ||
        connection.reader.overflowed()) {
      close_connection(fd);
      return;
    }
    while (std::optional<std::string> line = connection.reader.next_line()) {
      if (!handle_line(connection, *line)) {
        close_connection(fd);
        return;
      }
    }
  }

  // False when the connection should close.
  bool handle_line(Connection& connection, const std::string& line) {
    nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
    if (!request.is_object() || !request.contains("op") || !request["op"].is_string()) {
      send_line(connection.fd.get(),
                {{"ok", false}, {"error", "not a request: one JSON object with \"op\" per line"}});
      return false;
    }
    const std::string op = request["op"];
    if (op == "info") return send_line(connection.fd.get(), info());
    if (op == "stop") return on_stop(connection, request);
    if (op == "logs") return on_logs(connection, request);
    if (op == "exec") return on_exec(connection, request);
    if (op == "signal") return on_signal(connection, request);
    if (op == "revoke") return on_revoke(connection, request);
    send_line(connection.fd.get(), {{"ok", false}, {"error", "unknown op '" + op + "'"}});
    return true;
  }

  nlohmann::json info() const {
    using namespace std::chrono;
    const int64_t now_ms =
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    nlohmann::json answer = {
        {"ok", true},
        {"name", summary.name},
        {"id", summary.id},
        {"kind", summary.kind},
        {"policy", {{"name", summary.policy_name}, {"sha256", summary.policy_sha256}}},
        {"command", summary.command},
        {"workspace", summary.workspace},
        {"supervisor_pid", summary.supervisor_pid},
        {"pid", summary.sandbox_pid},
        {"started_unix_ms", summary.started_unix_ms},
        {"uptime_ms", now_ms - summary.started_unix_ms},
        {"execs_running", execs.size()},
        {"published", summary.published},
        {"links", summary.links},
    };
    // What it listens on inside: `airlock up` waits for a linked port to appear here.
    if (Result<std::vector<ListeningPort>> ports = listening_ports(summary.sandbox_pid)) {
      nlohmann::json listening = nlohmann::json::array();
      for (const ListeningPort& port : *ports)
        listening.push_back({{"address", port.address}, {"port", port.port}});
      answer["listening"] = listening;
    }
    if (hooks.counters != nullptr) {
      answer["connections"] = {{"allowed", hooks.counters->allowed.load()},
                               {"denied", hooks.counters->denied.load()}};
      answer["bytes"] = {{"up", hooks.counters->bytes_up.load()},
                         {"down", hooks.counters->bytes_down.load()}};
    }
    if (hooks.usage) answer["usage"] = hooks.usage();
    return answer;
  }

  // The credential's placeholder is refused from now on; audited whether or not it worked.
  bool on_revoke(Connection& connection, const nlohmann::json& request) {
    if (!request.contains("credential") || !request["credential"].is_string()) {
      return send_line(connection.fd.get(),
                       {{"ok", false}, {"error", "revoke needs \"credential\": NAME"}});
    }
    const std::string name = request["credential"];
    Status revoked = hooks.revoke_credential
                         ? hooks.revoke_credential(name)
                         : Status(Error{"this sandbox has no credentials to revoke"});
    nlohmann::json fields = {{"credential", name},
                             {"peer", peer_fields(connection.peer)},
                             {"decision", revoked ? "allow" : "error"}};
    if (!revoked) fields["reason"] = revoked.error().message;
    audit.record("credential.revoke", fields);
    if (!revoked)
      return send_line(connection.fd.get(), {{"ok", false}, {"error", revoked.error().message}});
    return send_line(connection.fd.get(), {{"ok", true}});
  }

  bool on_stop(Connection& connection, const nlohmann::json& request) {
    auto grace = std::chrono::milliseconds(kDefaultStopGrace);
    if (request.contains("grace_ms") && request["grace_ms"].is_number_unsigned())
      grace = std::chrono::milliseconds(request["grace_ms"].get<uint64_t>());
    audit.record("control.stop",
                 {{"peer", peer_fields(connection.peer)}, {"grace_ms", grace.count()}});
    if (hooks.session_channel >= 0) {
      send_request(SessionRequest{SessionRequestKind::terminate, 0, SIGTERM, 0, 0, 0});
    } else {
      ::kill(summary.sandbox_pid, SIGTERM);  // the init forwards it to the agent
    }
    if (!kill_at || Clock::now() + grace < *kill_at) kill_at = Clock::now() + grace;
    return send_line(connection.fd.get(), {{"ok", true}});
  }

  // The kept events, then (with follow) every new one; without follow the connection closes.
  bool on_logs(Connection& connection, const nlohmann::json& request) {
    const bool follow = request.value("follow", false);
    if (!hooks.events) {
      send_line(connection.fd.get(), {{"ok", false}, {"error", "this sandbox keeps no events"}});
      return false;
    }
    hooks.events->subscribe(connection.fd.get(), follow);
    connection.following = follow;
    return follow;
  }

  static nlohmann::json peer_fields(const Peer& peer) {
    return {{"uid", peer.uid}, {"pid", peer.pid}, {"exe", peer.exe}};
  }

  bool on_exec(Connection& connection, const nlohmann::json& request) {
    std::vector<int> fds = connection.reader.take_fds();
    auto close_fds = [&fds] {
      for (int fd : fds) ::close(fd);
    };
    auto refuse = [&](const std::string& why) {
      close_fds();
      send_line(connection.fd.get(), {{"event", "failed"}, {"error", why}, {"exit_code", 125}});
      return false;
    };
    if (hooks.session_channel < 0)
      return refuse(fmt::format("{} is not a session (airlock session start)", summary.name));
    if (connection.exec_request) return refuse("this connection already runs a command");
    if (fds.size() != 3) return refuse("exec needs three descriptors (stdin, stdout, stderr)");
    std::vector<std::string> argv;
    std::vector<std::string> environment;
    std::string cwd = hooks.session_directory;
    try {
      argv = request.at("argv").get<std::vector<std::string>>();
      if (request.contains("env")) environment = request["env"].get<std::vector<std::string>>();
      if (request.contains("cwd")) cwd = request["cwd"].get<std::string>();
    } catch (const nlohmann::json::exception&) {
      return refuse("exec needs \"argv\" (strings), optional \"env\" (K=V strings), \"cwd\"");
    }
    if (argv.empty() || argv.front().empty()) return refuse("exec needs a command");
    for (const std::string& entry : environment) {
      if (entry.find('=') == std::string::npos || entry.front() == '=')
        return refuse("environment entry '" + entry + "' is not K=V");
    }
    if (cwd.empty() || cwd.front() != '/') cwd = hooks.session_directory + "/" + cwd;
    const std::vector<std::string> full_environment =
        merged_environment(hooks.session_environment, environment);

    std::string strings = cwd + '\0';
    for (const std::string& argument : argv) strings += argument + '\0';
    for (const std::string& variable : full_environment) strings += variable + '\0';
    const bool fits = strings.size() <= sandbox::kSessionStringsMax &&
                      argv.size() + full_environment.size() <= sandbox::kSessionVectorMax &&
                      strings.find('\0') == cwd.size();
    if (!fits) return refuse("the command line and environment are too large");
    for (const std::string& argument : argv) {
      if (argument.find('\0') != std::string::npos) return refuse("an argument contains NUL");
    }

    const uint32_t id = next_request++;
    SessionRequest header{SessionRequestKind::exec,
                          id,
                          0,
                          static_cast<uint32_t>(argv.size()),
                          static_cast<uint32_t>(full_environment.size()),
                          static_cast<uint32_t>(strings.size())};
    iovec parts[2] = {{&header, sizeof header}, {strings.data(), strings.size()}};
    FdMessage<3> message(&header, sizeof header);
    message.message.msg_iov = parts;
    message.message.msg_iovlen = 2;
    message.attach({fds[0], fds[1], fds[2]});
    const bool sent = ::sendmsg(hooks.session_channel, &message.message, MSG_NOSIGNAL) >= 0;
    close_fds();
    if (!sent) return refuse("the session is gone: " + errno_text(errno));
    connection.exec_request = id;
    execs[id] = RunningExec{connection.fd.get(), argv.front(), cwd, Clock::now()};
    audit.record("control.exec", {{"request", id},
                                  {"argv", argv},
                                  {"cwd", cwd},
                                  {"env", environment},
                                  {"peer", peer_fields(connection.peer)}});
    return true;
  }

  bool on_signal(Connection& connection, const nlohmann::json& request) {
    if (!connection.exec_request || !request.contains("signal") ||
        !request["signal"].is_number_integer()) {
      send_line(connection.fd.get(), {{"ok", false}, {"error", "signal needs a running exec"}});
      return true;
    }
    const int signal = request["signal"].get<int>();
    if (signal <= 0 || signal >= NSIG) {
      send_line(connection.fd.get(), {{"ok", false}, {"error", "no such signal"}});
      return true;
    }
    send_request(
        SessionRequest{SessionRequestKind::signal, *connection.exec_request, signal, 0, 0, 0});
    return true;
  }

  void send_request(const SessionRequest& request) const {
    if (hooks.session_channel < 0) return;
    ssize_t ignored = ::send(hooks.session_channel, &request, sizeof request, MSG_NOSIGNAL);
    (void)ignored;  // a dead init ends the session; the supervisor sees it
  }

  void on_session_event() {
    SessionEvent event{};
    const ssize_t n = ::recv(hooks.session_channel, &event, sizeof event, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      hooks.session_channel = -1;  // the init is gone: its commands are too
      for (auto& [id, running] : execs) {
        if (running.connection >= 0) {
          send_line(running.connection,
                    {{"event", "failed"}, {"error", "the session ended"}, {"exit_code", 137}});
        }
      }
      execs.clear();
      return;
    }
    if (n != static_cast<ssize_t>(sizeof event)) return;
    auto found = execs.find(event.request_id);
    if (found == execs.end()) return;
    RunningExec& running = found->second;
    const int connection = running.connection;
    using namespace std::chrono;
    const auto duration = duration_cast<milliseconds>(Clock::now() - running.started).count();
    switch (event.kind) {
      case SessionEventKind::started:
        if (connection >= 0) send_line(connection, {{"event", "started"}, {"pid", event.value}});
        return;
      case SessionEventKind::failed: {
        const std::string why = exec_failure_text(running.program, event, running.cwd);
        const int code = event.step == 2 && event.value == ENOENT ? 127 : 126;
        audit.record("control.exec_exit",
                     {{"request", event.request_id}, {"error", why}, {"exit_code", code}});
        if (connection >= 0)
          send_line(connection, {{"event", "failed"}, {"error", why}, {"exit_code", code}});
        break;
      }
      case SessionEventKind::exited: {
        const int status = event.value;
        nlohmann::json fields = {{"request", event.request_id}, {"duration_ms", duration}};
        if (WIFSIGNALED(status)) {
          fields["signal"] = WTERMSIG(status);
          fields["exit_code"] = 128 + WTERMSIG(status);
        } else {
          fields["exit_code"] = WEXITSTATUS(status);
        }
        audit.record("control.exec_exit", fields);
        if (connection >= 0) {
          fields.erase("request");
          fields["event"] = "exited";
          send_line(connection, fields);
        }
        break;
      }
    }
    execs.erase(found);
    if (connection >= 0) {
      auto open = connections.find(connection);
      if (open != connections.end()) open->second.exec_request.reset();
    }
  }
};

Result<std::unique_ptr<ControlServer>> ControlServer::listen(const std::string& name) {
  if (!valid_sandbox_name(name)) {
    return Error{fmt::format(
        "'{}' is not a sandbox name: use 1 to 64 letters, digits, '_', '.', '-' (not first)",
        name)};
  }
  Result<std::string> directory = ensure_control_directory();
  if (!directory) return directory.error();
  const std::string path = socket_path(*directory, name);
  const std::optional<sockaddr_un> address = unix_address(path);
  if (!address) return Error{"the control socket path is too long: " + path};
  if (unix_socket_listening(path)) {
    return Error{fmt::format(
        "a sandbox named {} is already running (airlock ps); choose another --name", name)};
  }
  ::unlink(path.c_str());  // stale: its supervisor died without removing it
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener.valid()) return Error{"cannot create the control socket: " + errno_text(errno)};
  // 0600 from the start: no moment in which another user could connect.
  const mode_t old_mask = ::umask(0177);
  const int bound =
      ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address);
  const int bind_error = errno;
  ::umask(old_mask);
  if (bound != 0) {
    return Error{
        fmt::format("cannot create the control socket {}: {}", path, errno_text(bind_error))};
  }
  if (::listen(listener.get(), 64) != 0) {
    ::unlink(path.c_str());
    return Error{fmt::format("cannot listen on {}: {}", path, errno_text(errno))};
  }
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(listener), path));
}

ControlServer::ControlServer(UniqueFd listener, std::string path)
    : listener_(std::move(listener)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      path_(std::move(path)) {}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::start(SandboxSummary summary, ControlHooks hooks,
                          const audit::AuditLog& audit) {
  loop_ = std::make_unique<Loop>(std::move(summary), std::move(hooks), audit);
  thread_ = std::thread([this] {
    // Signals belong to the supervisor's signalfd, not to this thread.
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
    loop_->serve(listener_.get(), wake_.get());
  });
}

void ControlServer::stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
    (void)ignored;
    thread_.join();
  }
  loop_.reset();
  if (listener_.valid()) {
    listener_.reset();
    ::unlink(path_.c_str());
  }
}

void ControlServer::forget() {
  listener_.reset();
  wake_.reset();
}

}  // namespace airlock::control
