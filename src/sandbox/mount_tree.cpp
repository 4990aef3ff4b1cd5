// Builds the sandbox's filesystem view, bubblewrap-style: a staging tmpfs becomes the root so
// the host tree is reachable as /oldroot, the view is assembled under /newroot, and a final
// pivot_root + detach leaves nothing of the host but what was bound in.
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sandbox/child.h"

namespace airlock::sandbox {
namespace {

constexpr const char* kStaging = "/tmp";  // any directory: the staging root hides nothing we use
constexpr const char* kEmptyFile = "/empty";  // in the staging root: the source for hidden files
constexpr const char* kGeneratedFile = "/generated";  // in the staging root: MountKind::file

int mount_setattr_path(const char* path, unsigned int flags, uint64_t attr_set) {
  struct mount_attr attr {};
  attr.attr_set = attr_set;
  return static_cast<int>(::syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr));
}

// mkdir -p without allocating: the path is copied into a stack buffer and cut at each '/'.
bool make_directories(const char* path) {
  // Usually only the last component is missing: try it first, and walk the path (one mkdir per
  // component) only when a parent is missing too.
  if (::mkdir(path, 0755) == 0 || errno == EEXIST) return true;
  if (errno != ENOENT) return false;
  char buffer[PATH_MAX];
  size_t length = ::strnlen(path, sizeof buffer);
  if (length >= sizeof buffer) {
    errno = ENAMETOOLONG;
    return false;
  }
  ::memcpy(buffer, path, length + 1);
  for (size_t i = 1; i <= length; ++i) {
    if (buffer[i] != '/' && buffer[i] != '\0') continue;
    char saved = buffer[i];
    buffer[i] = '\0';
    if (::mkdir(buffer, 0755) != 0 && errno != EEXIST) return false;
    buffer[i] = saved;
  }
  return true;
}

bool make_parent_directories(const char* path) {
  char buffer[PATH_MAX];
  size_t length = ::strnlen(path, sizeof buffer);
  if (length >= sizeof buffer) {
    errno = ENAMETOOLONG;
    return false;
  }
  ::memcpy(buffer, path, length + 1);
  char* slash = ::strrchr(buffer, '/');
  if (slash == nullptr || slash == buffer) return true;
  *slash = '\0';
  return make_directories(buffer);
}

// A mount point of the right type: a directory for directories, an empty file otherwise.
bool make_mount_point(const char* target, bool is_directory) {
  struct stat info {};
  if (::lstat(target, &info) == 0) return true;  // inside an already bound tree
  if (is_directory) return make_directories(target);
  if (!make_parent_directories(target)) return false;
  int fd = ::open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool fail(Failure& failure, Step step, int detail = -1) {
  failure = Failure{step, errno, detail};
  return false;
}

bool bind(const char* source, const char* target, bool is_directory, uint64_t attributes) {
  if (!make_mount_point(target, is_directory)) return false;
  if (::mount(source, target, nullptr, MS_BIND | MS_REC, nullptr) != 0) return false;
  return mount_setattr_path(target, AT_RECURSIVE, attributes) == 0;
}

bool mount_proc() {
  if (!make_directories("/newroot/proc")) return false;
  // hidepid=2: other users' processes are invisible; a new pid namespace shows only ours.
  if (::mount("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") !=
      0) {
    return false;
  }
  return mount_setattr_path("/newroot/proc", 0, MOUNT_ATTR_RDONLY) == 0;
}

bool build_dev() {
  static const char* const kDevices[][2] = {
      {"/oldroot/dev/null", "/newroot/dev/null"},
      {"/oldroot/dev/zero", "/newroot/dev/zero"},
      {"/oldroot/dev/full", "/newroot/dev/full"},
      {"/oldroot/dev/random", "/newroot/dev/random"},
      {"/oldroot/dev/urandom", "/newroot/dev/urandom"},
      {"/oldroot/dev/tty", "/newroot/dev/tty"},
  };
  static const char* const kLinks[][2] = {
      {"pts/ptmx", "/newroot/dev/ptmx"},          {"/proc/self/fd", "/newroot/dev/fd"},
      {"/proc/self/fd/0", "/newroot/dev/stdin"},  {"/proc/self/fd/1", "/newroot/dev/stdout"},
      {"/proc/self/fd/2", "/newroot/dev/stderr"},
  };
  if (!make_directories("/newroot/dev")) return false;
  if (::mount("tmpfs", "/newroot/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") != 0)
    return false;
  for (const auto& device : kDevices) {
    if (!make_mount_point(device[1], false)) return false;
    if (::mount(device[0], device[1], nullptr, MS_BIND, nullptr) != 0) return false;
  }
  if (::mkdir("/newroot/dev/pts", 0755) != 0) return false;
  if (::mount("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620") != 0) {
    return false;
  }
  if (::mkdir("/newroot/dev/shm", 0755) != 0) return false;
  if (::mount("tmpfs", "/newroot/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0)
    return false;
  for (const auto& link : kLinks) {
    if (::symlink(link[0], link[1]) != 0) return false;
  }
  return mount_setattr_path("/newroot/dev", 0,
                            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC) == 0;
}

// Started by root: the agent runs as an unprivileged uid, so the workspace (and read_write paths
// of the same owner) is idmapped to it (files the owner has on disk appear owned by the sandbox
// user, and what it writes is stored as the owner's). Needs real root: the supervisor's child
// still is, in the init user namespace.
bool attach_idmapped(const ChildContext& context, const MountStep& step) {
  // The supervisor makes the idmap namespace while we build the view up to here.
  if (!receive_user_namespaces(context.sync_read_fd, *context.user_namespaces)) return false;
  int tree = static_cast<int>(
      ::syscall(SYS_open_tree, AT_FDCWD, step.source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (tree < 0) return false;
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  attr.userns_fd = static_cast<uint64_t>(context.user_namespaces->idmap_fd);
  bool ok = ::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0 &&
            make_mount_point(step.target.c_str(), step.is_directory) &&
            ::syscall(SYS_move_mount, tree, "", AT_FDCWD, step.target.c_str(),
                      MOVE_MOUNT_F_EMPTY_PATH) == 0;
  int saved = errno;
  ::close(tree);
  errno = saved;
  return ok;
}

// The content goes into a fresh staging file, which is then bound read-only (e.g. resolv.conf).
bool write_generated_file(const MountStep& step) {
  ::unlink(kGeneratedFile);  // a previous file step's inode stays bound where it was mounted
  int fd = ::open(kGeneratedFile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) return false;
  const char* data = step.source.data();
  size_t left = step.source.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return false;
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

bool apply_step(const ChildContext& context, const MountStep& step, Step& kind) {
  const char* target = step.target.c_str();
  switch (step.kind) {
    case MountKind::bind_read_only:
      kind = Step::bind;
      return bind(step.source.c_str(), target, step.is_directory,
                  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    case MountKind::bind_read_write:
      kind = Step::bind;
      return bind(step.source.c_str(), target, step.is_directory,
                  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    case MountKind::owned_read_write:
      kind = Step::workspace_idmap;
      return attach_idmapped(context, step);
    case MountKind::workspace:
      if (context.user_namespaces != nullptr) {
        kind = Step::workspace_idmap;
        return attach_idmapped(context, step);
      }
      kind = Step::workspace;
      return bind(step.source.c_str(), target, true, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    case MountKind::tmpfs:
      kind = Step::tmpfs;
      return make_directories(target) &&
             ::mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, step.options.c_str()) == 0;
    case MountKind::symlink:
      kind = Step::symlink;
      return make_parent_directories(target) &&
             (::symlink(step.source.c_str(), target) == 0 || errno == EEXIST);
    case MountKind::protect:
      kind = Step::protect;
      return ::mount(target, target, nullptr, MS_BIND | MS_REC, nullptr) == 0 &&
             mount_setattr_path(target, AT_RECURSIVE,
                                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) == 0;
    case MountKind::pin:
      kind = Step::pin;
      return ::mount(target, target, nullptr, MS_BIND, nullptr) == 0;
    case MountKind::hide:
      kind = Step::hide;
      if (step.is_directory) {
        return ::mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                       "mode=0000,size=4k") == 0 ||
               errno == ENOENT;  // a dangling symlink inside the view: nothing to hide
      }
      return (::mount(kEmptyFile, target, nullptr, MS_BIND, nullptr) == 0 &&
              mount_setattr_path(target, 0, MOUNT_ATTR_RDONLY) == 0) ||
             errno == ENOENT;
    case MountKind::file:
      kind = Step::file;
      return write_generated_file(step) && make_mount_point(target, false) &&
             ::mount(kGeneratedFile, target, nullptr, MS_BIND, nullptr) == 0 &&
             mount_setattr_path(target, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID) == 0;
  }
  errno = EINVAL;
  return false;
}

}  // namespace

bool build_mount_tree(const ChildContext& context, Failure& failure) {
  const LaunchPlan& plan = *context.plan;
  // No mount event may propagate back to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return fail(failure, Step::mount_private);
  if (::mount("tmpfs", kStaging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    return fail(failure, Step::staging_root);
  }
  if (::mkdir("/tmp/oldroot", 0755) != 0 || ::mkdir("/tmp/newroot", 0755) != 0) {
    return fail(failure, Step::staging_root);
  }
  if (::syscall(SYS_pivot_root, kStaging, "/tmp/oldroot") != 0 || ::chdir("/") != 0) {
    return fail(failure, Step::first_pivot);
  }
  int empty = ::open(kEmptyFile, O_WRONLY | O_CREAT | O_CLOEXEC, 0000);
  if (empty < 0) return fail(failure, Step::staging_root);
  ::close(empty);
  if (::mount("tmpfs", "/newroot", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    return fail(failure, Step::new_root);
  }
  if (!mount_proc()) return fail(failure, Step::proc);
  if (!build_dev()) return fail(failure, Step::dev);
  for (size_t i = 0; i < plan.mounts.size(); ++i) {
    Step kind = Step::bind;
    if (!apply_step(context, plan.mounts[i], kind)) return fail(failure, kind, static_cast<int>(i));
  }
  if (mount_setattr_path("/newroot", 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) !=
      0) {
    return fail(failure, Step::seal_root);
  }
  // pivot_root(".", ".") stacks the old root on the new one; detaching it drops every host
  // mount that was not bound into the view (pivot_root(2), "NOTES").
  if (::chdir("/newroot") != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0 ||
      ::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0) {
    return fail(failure, Step::pivot_root);
  }
  if (::chdir(plan.working_directory.c_str()) != 0) return fail(failure, Step::working_directory);
  return true;
}

}  // namespace airlock::sandbox
