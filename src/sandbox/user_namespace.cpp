#include "sandbox/user_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/errno_text.h"
#include "common/fd_message.h"
#include "common/file_io.h"

namespace airlock::sandbox {
namespace {

constexpr size_t kHelperStackBytes = size_t{16} * 1024;

Status write_identity_maps(pid_t process, uid_t inside_uid, uid_t outside_uid, gid_t inside_gid,
                           gid_t outside_gid) {
  const std::string proc = "/proc/" + std::to_string(process);
  if (Status status = write_file(proc + "/uid_map", std::to_string(inside_uid) + " " +
                                                        std::to_string(outside_uid) + " 1\n");
      !status) {
    return status;
  }
  return write_file(proc + "/gid_map",
                    std::to_string(inside_gid) + " " + std::to_string(outside_gid) + " 1\n");
}

// A helper's whole life: it shares our memory (CLONE_VM), so it touches none of it but its own
// stack. With every signal blocked, pause() never returns; SIGKILL, which cannot be blocked,
// ends it.
int hold_namespace(void*) {
  for (;;) ::pause();
}

}  // namespace

void HeldUserNamespace::reset() {
  ns_.reset();
  if (helper_ < 0) return;
  int status = 0;
  while (::waitpid(helper_, &status, 0) < 0 && errno == EINTR) {
  }
  helper_ = -1;
}

Result<HeldUserNamespace> HeldUserNamespace::make(uid_t inside_uid, uid_t outside_uid,
                                                  gid_t inside_gid, gid_t outside_gid) {
  // A user namespace exists only while a process is in it, so a helper holds this one until we
  // have opened it. CLONE_VM: a plain fork would copy our page tables only to throw them away,
  // which costs every start by root about a millisecond (bench/startup.sh).
  HeldUserNamespace held;
  // Not zeroed: the helper touches only the top of it, and untouched pages cost nothing.
  held.stack_ = std::make_unique_for_overwrite<char[]>(kHelperStackBytes);
  sigset_t all, original;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, &original);  // the helper inherits this mask
  pid_t helper = ::clone(hold_namespace, held.stack_.get() + kHelperStackBytes,
                         CLONE_NEWUSER | CLONE_VM | SIGCHLD, nullptr);
  int clone_error = errno;
  ::sigprocmask(SIG_SETMASK, &original, nullptr);
  if (helper < 0) return Error{"cannot create a user namespace: " + errno_text(clone_error)};
  held.helper_ = helper;
  Status mapped = write_identity_maps(helper, inside_uid, outside_uid, inside_gid, outside_gid);
  if (mapped) {
    held.ns_.reset(
        ::open(("/proc/" + std::to_string(helper) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  }
  int saved = errno;
  ::kill(helper, SIGKILL);  // it touches none of our memory, so it may die at its own pace
  if (!mapped) {
    return Error{"cannot write the uid/gid maps of a new user namespace: " +
                 mapped.error().message};
  }
  if (held.fd() < 0) return Error{"cannot open a new user namespace: " + errno_text(saved)};
  return held;
}

Status send_user_namespaces(int socket, int idmap_fd, int sandbox_user_fd) {
  char byte = 'n';
  FdMessage<2> carrier(&byte, 1);
  carrier.attach({idmap_fd, sandbox_user_fd});  // one message: the child never sees half of it
  ssize_t sent;
  do {
    sent = ::sendmsg(socket, &carrier.message, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent != 1) {
    return Error{"cannot pass the user namespaces to the sandbox: " + errno_text(errno)};
  }
  return ok_status();
}

bool receive_user_namespaces(int socket, ReceivedUserNamespaces& into) {
  if (into.received) return true;
  char byte = 0;
  FdMessage<2> carrier(&byte, 1);
  ssize_t got;
  do {
    got = ::recvmsg(socket, &carrier.message, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {
    if (got == 0) errno = EPIPE;  // the supervisor is gone
    return false;
  }
  std::array<int, 2> fds{};
  if (byte != 'n' || !carrier.take(fds)) {
    errno = EPROTO;
    return false;
  }
  into.idmap_fd = fds[0];
  into.sandbox_user_fd = fds[1];
  into.received = true;
  return true;
}

}  // namespace airlock::sandbox
