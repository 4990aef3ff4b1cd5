// Parent-side user namespace work: writing a child's uid/gid maps, and (started by root) the
// helper namespace that idmaps the workspace owner onto the sandbox user.
#pragma once

#include <sys/types.h>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::sandbox {

// Maps exactly one uid and one gid: `inside` (in the child's namespace) to `outside` (here).
// Needs CAP_SETUID/CAP_SETGID over the child's namespace: the root paths use it. Started by a
// normal user, the sandbox maps itself (child.cpp, map_own_identity).
Status write_identity_maps(pid_t child, uid_t inside_uid, uid_t outside_uid, gid_t inside_gid,
                           gid_t outside_gid);

// A user namespace (held by fd) mapping on-disk owner `owner_uid`/`owner_gid` to the sandbox
// user, for mount_setattr(MOUNT_ATTR_IDMAP).
Result<UniqueFd> make_idmap_namespace(uid_t owner_uid, gid_t owner_gid, uid_t sandbox_uid,
                                      gid_t sandbox_gid);

}  // namespace airlock::sandbox
