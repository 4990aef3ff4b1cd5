// The user namespaces the supervisor makes for a sandbox started by root, and the message that
// carries them to the child (user_namespace.h). Real namespaces, real SCM_RIGHTS.
#include "sandbox/user_namespace.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

namespace airlock::sandbox {
namespace {

struct SocketPair {
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0); }
  ~SocketPair() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int fds[2] = {-1, -1};
};

ino_t inode_of(int fd) {
  struct stat info {};
  return ::fstat(fd, &info) == 0 ? info.st_ino : 0;
}

// What a process that joins `ns_fd` sees in /proc/self/uid_map ("" when setns fails).
std::string uid_map_after_joining(int ns_fd) {
  int out[2];
  if (::pipe(out) != 0) return "";
  pid_t child = ::fork();
  if (child == 0) {
    ::close(out[0]);
    if (::setns(ns_fd, CLONE_NEWUSER) != 0) ::_exit(1);
    std::ifstream map("/proc/self/uid_map");
    std::string line;
    std::getline(map, line);
    std::istringstream fields(line);
    std::string inside, outside, count;
    fields >> inside >> outside >> count;
    const std::string text = inside + " " + outside + " " + count;
    (void)!::write(out[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(out[1]);
  char buffer[128] = {};
  ssize_t n = ::read(out[0], buffer, sizeof buffer - 1);
  ::close(out[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

TEST(UserNamespaces, ANewNamespaceMapsExactlyTheAskedIds) {
  if (::geteuid() != 0) GTEST_SKIP() << "mapping another uid needs root (the root start path)";
  Result<HeldUserNamespace> held = HeldUserNamespace::make(1000, 65534, 1000, 65534);
  ASSERT_TRUE(held) << held.error().message;
  HeldUserNamespace ns = std::move(held).value();
  EXPECT_EQ(uid_map_after_joining(ns.fd()), "1000 65534 1");
  ns.reset();
  EXPECT_LT(ns.fd(), 0);
  // The helper has been reaped: no child of ours is left.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(UserNamespaces, BothTravelInOneMessageAndArriveAsTheSameNamespaces) {
  if (::geteuid() != 0) GTEST_SKIP() << "mapping another uid needs root (the root start path)";
  Result<HeldUserNamespace> idmap = HeldUserNamespace::make(0, 65534, 0, 65534);
  Result<HeldUserNamespace> own = HeldUserNamespace::make(65534, 65534, 65534, 65534);
  ASSERT_TRUE(idmap && own);
  SocketPair channel;
  ASSERT_TRUE(send_user_namespaces(channel.fds[0], idmap->fd(), own->fd()));
  ReceivedUserNamespaces received;
  ASSERT_TRUE(receive_user_namespaces(channel.fds[1], received)) << errno;
  EXPECT_TRUE(received.received);
  EXPECT_EQ(inode_of(received.idmap_fd), inode_of(idmap->fd()));
  EXPECT_EQ(inode_of(received.sandbox_user_fd), inode_of(own->fd()));
  EXPECT_NE(inode_of(received.idmap_fd), inode_of(received.sandbox_user_fd));
  EXPECT_EQ(::fcntl(received.idmap_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  // A second call takes nothing more from the socket.
  EXPECT_TRUE(receive_user_namespaces(channel.fds[1], received));
  ::close(received.idmap_fd);
  ::close(received.sandbox_user_fd);
}

TEST(UserNamespaces, AGoInsteadOfTheNamespacesIsAProtocolError) {
  SocketPair channel;
  ASSERT_EQ(::send(channel.fds[0], "g", 1, 0), 1);
  ReceivedUserNamespaces received;
  errno = 0;
  EXPECT_FALSE(receive_user_namespaces(channel.fds[1], received));
  EXPECT_EQ(errno, EPROTO);
  EXPECT_FALSE(received.received);
}

TEST(UserNamespaces, AGoneSupervisorIsEpipe) {
  SocketPair channel;
  ::close(channel.fds[0]);
  channel.fds[0] = -1;
  ReceivedUserNamespaces received;
  errno = 0;
  EXPECT_FALSE(receive_user_namespaces(channel.fds[1], received));
  EXPECT_EQ(errno, EPIPE);
}

}  // namespace
}  // namespace airlock::sandbox
