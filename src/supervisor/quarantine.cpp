#include "supervisor/quarantine.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/errno_text.h"
#include "common/unique_fd.h"

namespace airlock::supervisor {
namespace {

// The agent controls everything inside the workspace, including symlinks: resolve strictly
// beneath the workspace and never through a link, or a planted `.git -> /etc` would make us
// rename host files.
UniqueFd open_beneath(int root, const std::string& relative_directory) {
  if (relative_directory.empty()) return UniqueFd(::dup(root));
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return UniqueFd(
      static_cast<int>(::syscall(SYS_openat2, root, relative_directory.c_str(), &how, sizeof how)));
}

}  // namespace

std::vector<QuarantinedPath> quarantine_created_paths(
    const std::string& workspace, const std::vector<std::string>& absent_at_start,
    const std::string& sandbox_id) {
  std::vector<QuarantinedPath> moved;
  if (absent_at_start.empty()) return moved;
  UniqueFd root(::open(workspace.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root.valid()) return moved;
  for (const std::string& path : absent_at_start) {
    const size_t slash = path.rfind('/');
    const std::string directory = slash == std::string::npos ? "" : path.substr(0, slash);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    UniqueFd parent = open_beneath(root.get(), directory);
    if (!parent.valid()) continue;  // its directory is not there (or is a link): nothing to run
    struct stat info {};
    if (::fstatat(parent.get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    const std::string new_name = name + ".airlock-quarantine-" + sandbox_id;
    QuarantinedPath entry{path, (directory.empty() ? "" : directory + "/") + new_name, ""};
    if (::renameat2(parent.get(), name.c_str(), parent.get(), new_name.c_str(), RENAME_NOREPLACE) !=
        0) {
      entry.problem = errno_text(errno);
    }
    moved.push_back(entry);
  }
  return moved;
}

}  // namespace airlock::supervisor
