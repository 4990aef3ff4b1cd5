#include "sandbox/exec_listener.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>

#include "common/errno_text.h"
#include "common/fd_message.h"

namespace airlock::sandbox {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
#else
#error "exec_listener.cpp: add this architecture's AUDIT_ARCH constant"
#endif

}  // namespace

int install_exec_listener() {
  // Another architecture's calls pass here untouched: the default filter refuses them.
  static const sock_filter kProgram[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kNativeArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof kProgram / sizeof kProgram[0]),
                     const_cast<sock_filter*>(kProgram)};
  return static_cast<int>(
      ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program));
}

bool send_exec_listener(int sync_socket, int listener) {
  char tag = 'x';
  FdMessage<1> carrier(&tag, 1);
  carrier.attach({listener});
  return ::sendmsg(sync_socket, &carrier.message, MSG_NOSIGNAL) == 1;
}

Result<UniqueFd> receive_exec_listener(int sync_socket) {
  char tag = 0;
  FdMessage<1> carrier(&tag, 1);
  ssize_t received;
  do {
    received = ::recvmsg(sync_socket, &carrier.message, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received < 0) return Error{"cannot receive the exec listener: " + errno_text(errno)};
  std::array<int, 1> fds{-1};
  if (received == 0 || !carrier.take(fds)) {
    return Error{"the sandbox ended before it handed over its exec listener"};
  }
  return UniqueFd(fds[0]);
}

}  // namespace airlock::sandbox
