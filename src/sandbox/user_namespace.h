// User namespaces the supervisor makes for a sandbox started by root, and how they reach it.
//
// Started by root, the sandbox's other namespaces are created by real root, so that the sandbox
// user owns none of them, and two user namespaces come from here:
// - the idmap namespace maps the workspace owner onto the sandbox user, for
//   mount_setattr(MOUNT_ATTR_IDMAP) on the workspace;
// - the sandbox's own user namespace maps only the sandbox uid/gid. The child joins it with
//   setns() as its last namespace step.
// Both are made after the sandbox's clone, while the child builds its mount view, and travel to
// it over the sync socket (SCM_RIGHTS). Nothing waits on them unless the child gets there first.
// Started by a normal user, the child maps itself (child.cpp, map_own_identity).
#pragma once

#include <sys/types.h>

#include <memory>
#include <utility>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::sandbox {

// A user namespace held by fd. The helper process that created it has been sent SIGKILL; it is
// reaped when this object goes. Keep the object until the sandbox runs: a helper that has not
// been scheduled yet dies only when a CPU takes it, and waiting for that cost several
// milliseconds of start-up on 2 busy CPUs (bench/README.md).
class HeldUserNamespace {
 public:
  HeldUserNamespace(HeldUserNamespace&& other) noexcept
      : ns_(std::move(other.ns_)),
        helper_(std::exchange(other.helper_, -1)),
        stack_(std::move(other.stack_)) {}
  HeldUserNamespace& operator=(HeldUserNamespace&&) = delete;
  HeldUserNamespace(const HeldUserNamespace&) = delete;
  HeldUserNamespace& operator=(const HeldUserNamespace&) = delete;
  ~HeldUserNamespace() { reset(); }

  int fd() const { return ns_.get(); }
  void close_namespace() { ns_.reset(); }  // the helper is still reaped later
  void reset();                            // closes the namespace fd and reaps the helper

  // A new user namespace (a child of ours) mapping exactly one uid and one gid:
  // `inside` (in the new namespace) to `outside` (here). Needs CAP_SETUID and CAP_SETGID.
  static Result<HeldUserNamespace> make(uid_t inside_uid, uid_t outside_uid, gid_t inside_gid,
                                        gid_t outside_gid);

 private:
  HeldUserNamespace() = default;
  UniqueFd ns_;
  pid_t helper_ = -1;
  std::unique_ptr<char[]> stack_;  // the helper's; freed only after the helper is reaped
};

// The supervisor's side: one message carrying both namespace fds.
Status send_user_namespaces(int socket, int idmap_fd, int sandbox_user_fd);

// The child's side. Allocates nothing (it runs between clone and exec); on failure errno says
// why (EPIPE: the supervisor is gone, EPROTO: not the expected message).
struct ReceivedUserNamespaces {
  bool received = false;
  int idmap_fd = -1;
  int sandbox_user_fd = -1;
};
bool receive_user_namespaces(int socket, ReceivedUserNamespaces& into);

}  // namespace airlock::sandbox
