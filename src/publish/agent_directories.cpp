#include "publish/agent_directories.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/errno_text.h"
#include "control/control_directory.h"

namespace airlock::publish {
namespace {

int remove_entry(const char* path, const struct stat* /*info*/, int type, FTW* /*where*/) {
  // FTW_PHYS: symbolic links are removed, never followed.
  if (type == FTW_DP) {
    ::rmdir(path);
  } else {
    ::unlink(path);
  }
  return 0;
}

void remove_tree(const std::string& path) {
  ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

}  // namespace

Result<AgentDirectories> AgentDirectories::make(
    const std::vector<sandbox::PublishDirectory>& directories, bool started_by_root,
    uid_t sandbox_uid, gid_t sandbox_gid) {
  if (directories.empty()) return AgentDirectories();
  if (Result<std::string> control = control::ensure_control_directory(); !control) {
    return control.error();
  }
  AgentDirectories made;
  for (const sandbox::PublishDirectory& directory : directories) {
    if (::mkdir(directory.host.c_str(), 0700) != 0) {
      return Error{"cannot create the private directory " + directory.host + " for " +
                   directory.inside + ": " + errno_text(errno)};
    }
    made.made_.push_back(directory.host);
    // Started by root the agent runs as the sandbox user: the directory is that user's.
    if (started_by_root && ::chown(directory.host.c_str(), sandbox_uid, sandbox_gid) != 0) {
      return Error{"cannot give " + directory.host + " to the sandbox user: " + errno_text(errno)};
    }
  }
  return made;
}

AgentDirectories::~AgentDirectories() {
  for (const std::string& path : made_) remove_tree(path);
}

}  // namespace airlock::publish
