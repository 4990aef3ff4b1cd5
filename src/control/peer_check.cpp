#include "control/peer_check.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/errno_text.h"

namespace airlock::control {
namespace {

std::optional<struct stat> user_namespace_of(const std::string& process) {
  struct stat info {};
  if (::stat(fmt::format("/proc/{}/ns/user", process).c_str(), &info) != 0) return std::nullopt;
  return info;
}

std::string executable_of(pid_t pid) {
  char target[4096];
  const ssize_t length =
      ::readlink(fmt::format("/proc/{}/exe", pid).c_str(), target, sizeof target - 1);
  return length > 0 ? std::string(target, static_cast<size_t>(length)) : std::string();
}

}  // namespace

PeerDecision check_peer(int connection, const std::vector<uint32_t>& also_allowed) {
  PeerDecision decision;
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    decision.refusal = "cannot read the peer's credentials: " + errno_text(errno);
    return decision;
  }
  decision.peer =
      Peer{credentials.pid, credentials.uid, credentials.gid, executable_of(credentials.pid)};
  const bool listed =
      std::find(also_allowed.begin(), also_allowed.end(), credentials.uid) != also_allowed.end();
  if (credentials.uid != ::geteuid() && credentials.uid != 0 && !listed) {
    decision.refusal =
        fmt::format("uid {} is neither the sandbox's owner (uid {}) nor root{}", credentials.uid,
                    ::geteuid(), also_allowed.empty() ? "" : " nor one of the listed uids");
    return decision;
  }
  // The pid could be reused between SO_PEERCRED and this look-up; a process that reuses it in
  // that instant is still one of the owner's or root's, in the namespace we compare against.
  const std::optional<struct stat> ours = user_namespace_of("self");
  const std::optional<struct stat> theirs = user_namespace_of(std::to_string(credentials.pid));
  if (!theirs && credentials.uid != ::geteuid()) {
    // A normal user cannot look into root's or another user's processes. The namespace rule
    // protects the owner from its own sandboxes, which run as the owner: root (no sandbox maps
    // anyone to uid 0) and a uid the policy lists are let in on their uid alone.
    return decision;
  }
  if (!ours || !theirs) {
    decision.refusal = fmt::format("cannot read pid {}'s user namespace", credentials.pid);
  } else if (ours->st_dev != theirs->st_dev || ours->st_ino != theirs->st_ino) {
    decision.refusal =
        fmt::format("pid {} is in another user namespace (inside a sandbox?)", credentials.pid);
  }
  return decision;
}

}  // namespace airlock::control
