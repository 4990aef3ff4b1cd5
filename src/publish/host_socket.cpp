#include "publish/host_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/errno_text.h"
#include "common/unix_address.h"

namespace airlock::publish {
namespace {

constexpr int kBacklog = 128;

// mkdir -p of the socket's parent; the directories it made, outermost first.
Result<std::vector<std::string>> make_parents(const std::string& path) {
  std::vector<std::string> made;
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string directory = path.substr(0, slash);
    if (::mkdir(directory.c_str(), 0755) == 0) {
      made.push_back(directory);
    } else if (errno != EEXIST) {
      return Error{fmt::format("cannot create {} for the published socket {}: {}", directory, path,
                               errno_text(errno))};
    }
  }
  return made;
}

void remove_made(const std::vector<std::string>& made) {
  for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());  // if empty
}

}  // namespace

Result<HostSocket> HostSocket::listen(const std::string& path, uint32_t mode) {
  Result<std::vector<std::string>> made = make_parents(path);
  if (!made) return made.error();
  auto fail = [&](const std::string& why) {
    remove_made(*made);
    return Error{fmt::format("cannot publish {}: {}", path, why)};
  };
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return fail("something that is not a socket is there; move it away or publish elsewhere");
    }
    // A stale one (nobody listening) is replaced by the rename below.
    if (unix_socket_listening(path))
      return fail("a live socket is there (another sandbox or program)");
  }
  // Bound in a private directory beside the path, given its mode there, then renamed into
  // place: nobody else can swap the fresh socket for a symlink before the chmod, and no peer can
  // connect to it under the umask's mode.
  const std::string parent = path.substr(0, path.rfind('/'));
  std::string staging = parent + "/.airlock-XXXXXX";
  if (::mkdtemp(staging.data()) == nullptr)
    return fail("mkdtemp in " + parent + ": " + errno_text(errno));
  const std::string staged = staging + "/s";
  auto unstage = [&] {
    ::unlink(staged.c_str());
    ::rmdir(staging.c_str());
  };
  const std::optional<sockaddr_un> address = unix_address(staged);
  if (!address) {
    unstage();
    return fail("the path is too long to bind beside (shorten the directory)");
  }
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  struct stat bound {};
  if (!listener.valid() ||
      ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0 ||
      ::chmod(staged.c_str(), mode) != 0 || ::lstat(staged.c_str(), &bound) != 0 ||
      ::listen(listener.get(), kBacklog) != 0 || ::rename(staged.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text(errno);
    unstage();
    return fail(why);
  }
  ::rmdir(staging.c_str());
  return HostSocket(std::move(listener), path, bound.st_ino, std::move(made).value());
}

HostSocket::HostSocket(HostSocket&& other) noexcept
    : listener_(std::move(other.listener_)),
      path_(std::move(other.path_)),
      inode_(other.inode_),
      made_directories_(std::move(other.made_directories_)) {
  other.inode_ = 0;
}

HostSocket::~HostSocket() {
  if (inode_ == 0) return;
  listener_.reset();
  struct stat now {};
  if (::lstat(path_.c_str(), &now) == 0 && now.st_ino == inode_ && S_ISSOCK(now.st_mode)) {
    ::unlink(path_.c_str());
  }
  remove_made(made_directories_);
}

}  // namespace airlock::publish
