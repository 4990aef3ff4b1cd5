// One socket message carrying a small payload and exactly `Count` descriptors (SCM_RIGHTS).
// It allocates nothing, so the sandbox's child can use it between clone and exec; the sender
// fills the descriptors with attach(), the receiver checks and copies them with take().
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstring>

namespace airlock {

template <size_t Count>
struct FdMessage {
  FdMessage(void* data, size_t length) : payload{data, length} {
    message.msg_iov = &payload;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
  }
  FdMessage(const FdMessage&) = delete;
  FdMessage& operator=(const FdMessage&) = delete;

  void attach(const std::array<int, Count>& fds) {
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof fds);
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof fds);
  }

  // After recvmsg: true, with `fds` filled, when the message carried exactly Count descriptors.
  bool take(std::array<int, Count>& fds) const {
    const cmsghdr* header = CMSG_FIRSTHDR(&message);
    if ((message.msg_flags & MSG_CTRUNC) != 0 || header == nullptr ||
        header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS ||
        header->cmsg_len != CMSG_LEN(sizeof fds)) {
      return false;
    }
    std::memcpy(fds.data(), CMSG_DATA(header), sizeof fds);
    return true;
  }

  iovec payload;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * Count)] = {};
  msghdr message{};
};

}  // namespace airlock
