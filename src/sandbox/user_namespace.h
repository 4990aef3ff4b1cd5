// Parent-side user namespace work: writing a child's uid/gid maps, and (started by root) the
// helper namespace that idmaps the workspace owner onto the sandbox user.
#pragma once

#include <sys/types.h>

#include <utility>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::sandbox {

// Maps exactly one uid and one gid: `inside` (in the child's namespace) to `outside` (here).
// Needs CAP_SETUID/CAP_SETGID over the child's namespace: the root paths use it. Started by a
// normal user, the sandbox maps itself (child.cpp, map_own_identity).
Status write_identity_maps(pid_t child, uid_t inside_uid, uid_t outside_uid, gid_t inside_gid,
                           gid_t outside_gid);

// A user namespace (held by fd) mapping on-disk owner uid/gid to the sandbox user, for
// mount_setattr(MOUNT_ATTR_IDMAP). The helper process that created it has been sent SIGKILL;
// it is reaped when this object goes, which by then (after the sandbox's clone) rarely waits:
// waiting at once would put the helper's exit on every root start-up path.
class IdmapNamespace {
 public:
  IdmapNamespace(UniqueFd ns, pid_t helper) : ns_(std::move(ns)), helper_(helper) {}
  IdmapNamespace(IdmapNamespace&& other) noexcept
      : ns_(std::move(other.ns_)), helper_(std::exchange(other.helper_, -1)) {}
  IdmapNamespace& operator=(IdmapNamespace&&) = delete;
  IdmapNamespace(const IdmapNamespace&) = delete;
  IdmapNamespace& operator=(const IdmapNamespace&) = delete;
  ~IdmapNamespace() { reset(); }

  int fd() const { return ns_.get(); }
  void reset();  // closes the namespace fd and reaps the helper

 private:
  UniqueFd ns_;
  pid_t helper_ = -1;
};

Result<IdmapNamespace> make_idmap_namespace(uid_t owner_uid, gid_t owner_gid, uid_t sandbox_uid,
                                            gid_t sandbox_gid);

}  // namespace airlock::sandbox
