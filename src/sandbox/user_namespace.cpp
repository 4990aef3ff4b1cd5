#include "sandbox/user_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/errno_text.h"
#include "common/file_io.h"

namespace airlock::sandbox {

Status write_identity_maps(pid_t child, uid_t inside_uid, uid_t outside_uid, gid_t inside_gid,
                           gid_t outside_gid, bool deny_setgroups) {
  const std::string proc = "/proc/" + std::to_string(child);
  if (deny_setgroups) {
    if (Status status = write_file(proc + "/setgroups", "deny"); !status) return status;
  }
  if (Status status = write_file(proc + "/uid_map", std::to_string(inside_uid) + " " +
                                                        std::to_string(outside_uid) + " 1\n");
      !status) {
    return status;
  }
  return write_file(proc + "/gid_map",
                    std::to_string(inside_gid) + " " + std::to_string(outside_gid) + " 1\n");
}

Result<UniqueFd> make_idmap_namespace(uid_t owner_uid, gid_t owner_gid, uid_t sandbox_uid,
                                      gid_t sandbox_gid) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Error{"cannot create a pipe: " + errno_text(errno)};
  UniqueFd read_end(ready[0]);
  UniqueFd write_end(ready[1]);
  // The helper only has to exist while we read its namespace: it blocks until we close the pipe.
  pid_t helper = static_cast<pid_t>(
      ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (helper < 0) return Error{"cannot create the idmap user namespace: " + errno_text(errno)};
  if (helper == 0) {
    char byte;
    write_end.reset();
    while (::read(read_end.get(), &byte, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  read_end.reset();
  // Disk owner (as the mount sees it) -> sandbox user (as the kernel sees it).
  Status mapped =
      write_identity_maps(helper, owner_uid, sandbox_uid, owner_gid, sandbox_gid, false);
  UniqueFd ns;
  if (mapped) {
    ns.reset(
        ::open(("/proc/" + std::to_string(helper) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  }
  int saved = errno;
  write_end.reset();
  int status = 0;
  while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {
  }
  if (!mapped) return Error{"cannot map the workspace owner: " + mapped.error().message};
  if (!ns.valid()) return Error{"cannot open the idmap user namespace: " + errno_text(saved)};
  return ns;
}

}  // namespace airlock::sandbox
