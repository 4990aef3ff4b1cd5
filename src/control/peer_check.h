// Who may use a control socket: a peer whose SO_PEERCRED uid is the sandbox owner's or root's,
// and which lives in the owner's user namespace. Every sandbox has a user namespace of its own,
// so a process inside any sandbox is refused even if it shares the owner's uid and somehow
// reached the socket (the control directories are also hidden from every sandbox's view).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace airlock::control {

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string exe;  // readlink /proc/PID/exe, or "" when it cannot be read
};

struct PeerDecision {
  std::optional<Peer> peer;  // unset when SO_PEERCRED itself failed
  std::string refusal;       // empty: allowed
};

// `also_allowed`: further uids a published socket lets in (policy publish uids).
PeerDecision check_peer(int connection, const std::vector<uint32_t>& also_allowed = {});

}  // namespace airlock::control
