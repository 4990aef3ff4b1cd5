// A running sandbox's control socket (docs/control.md has the protocol): line-delimited JSON on
// a Unix stream socket in the owner's control directory, served by a thread of the supervisor.
// Every connection is checked (peer_check.h); a refused one is audited. It answers `info`
// (what `airlock ps` shows), `logs`, `stop`, and for sessions `exec` and `signal`, whose commands
// the session's init forks (session_channel.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::audit {
class AuditLog;
class EventTap;
}  // namespace airlock::audit
namespace airlock::egress {
struct EgressCounters;
}

namespace airlock::control {

// What `ps` shows that does not change while the sandbox runs.
struct SandboxSummary {
  std::string name;
  std::string id;
  std::string kind;  // "run" or "session"
  std::string policy_name;
  std::string policy_sha256;
  std::vector<std::string> command;  // empty for a session
  std::string workspace;
  pid_t supervisor_pid = 0;
  pid_t sandbox_pid = 0;  // the sandbox's init, as the host sees it
  int64_t started_unix_ms = 0;
  // Its crossings besides egress: published host sockets, and links of a stack
  // ({"name", "port", "to"} out, {"from", "port"} in).
  std::vector<std::string> published;
  nlohmann::json links = nlohmann::json::object();
};

struct ControlHooks {
  const egress::EgressCounters* counters = nullptr;  // null without the egress proxy
  std::function<nlohmann::json()> usage;             // {"memory_bytes", "pids", "source"}
  std::shared_ptr<audit::EventTap> events;           // what `logs` streams
  // Sessions only: the init's end of the session channel, and what an exec starts from.
  int session_channel = -1;
  std::vector<std::string> session_environment;
  std::string session_directory;
  // `airlock revoke`: null when the sandbox has no credentials.
  std::function<Status(const std::string&)> revoke_credential;
};

class ControlServer {
 public:
  // Binds NAME.sock in the caller's control directory. A live sandbox of that name is an error;
  // a stale socket (nobody listening) is replaced.
  static Result<std::unique_ptr<ControlServer>> listen(const std::string& name);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return path_; }
  // Serves connections on a thread of its own until stop().
  void start(SandboxSummary summary, ControlHooks hooks, const audit::AuditLog& audit);
  // Joins the thread; every connection is closed and the socket removed.
  void stop();
  // After fork(): the parent's copy closes its descriptor without removing the socket.
  void forget();

 private:
  struct Loop;
  ControlServer(UniqueFd listener, std::string path);
  UniqueFd listener_;
  UniqueFd wake_;  // an eventfd: stop() wakes the thread with it
  std::string path_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace airlock::control
