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
                           gid_t outside_gid) {
  const std::string proc = "/proc/" + std::to_string(child);
  if (Status status = write_file(proc + "/uid_map", std::to_string(inside_uid) + " " +
                                                        std::to_string(outside_uid) + " 1\n");
      !status) {
    return status;
  }
  return write_file(proc + "/gid_map",
                    std::to_string(inside_gid) + " " + std::to_string(outside_gid) + " 1\n");
}

namespace {

// The idmap helper's whole life: it shares our memory (CLONE_VM), so it touches none of it. With
// every signal blocked, pause() never returns; SIGKILL, which cannot be blocked, ends it.
int hold_namespace(void*) {
  for (;;) ::pause();
}

}  // namespace

void IdmapNamespace::reset() {
  ns_.reset();
  if (helper_ < 0) return;
  int status = 0;
  while (::waitpid(helper_, &status, 0) < 0 && errno == EINTR) {
  }
  helper_ = -1;
}

Result<IdmapNamespace> make_idmap_namespace(uid_t owner_uid, gid_t owner_gid, uid_t sandbox_uid,
                                            gid_t sandbox_gid) {
  // A user namespace exists only while a process is in it, so a helper holds this one until we
  // have opened it. CLONE_VM: a plain fork would copy our page tables only to throw them away,
  // which costs every start by root about a millisecond (bench/startup.sh).
  alignas(16) static char helper_stack[16 * 1024];
  sigset_t all, original;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, &original);  // the helper inherits this mask
  pid_t helper = ::clone(hold_namespace, helper_stack + sizeof helper_stack,
                         CLONE_NEWUSER | CLONE_VM | SIGCHLD, nullptr);
  int clone_error = errno;
  ::sigprocmask(SIG_SETMASK, &original, nullptr);
  if (helper < 0)
    return Error{"cannot create the idmap user namespace: " + errno_text(clone_error)};
  // Disk owner (as the mount sees it) -> sandbox user (as the kernel sees it).
  Status mapped = write_identity_maps(helper, owner_uid, sandbox_uid, owner_gid, sandbox_gid);
  UniqueFd ns;
  if (mapped) {
    ns.reset(
        ::open(("/proc/" + std::to_string(helper) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  }
  int saved = errno;
  ::kill(helper, SIGKILL);  // it touches none of our memory, so it may die at its own pace
  IdmapNamespace idmap(std::move(ns), helper);
  if (!mapped) return Error{"cannot map the workspace owner: " + mapped.error().message};
  if (idmap.fd() < 0) return Error{"cannot open the idmap user namespace: " + errno_text(saved)};
  return idmap;
}

}  // namespace airlock::sandbox
