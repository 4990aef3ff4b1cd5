// Landlock: a second, independent filesystem layer mirroring the mount view. Reads follow the
// view; writes are allowed only beneath the writable mounts. Abstract Unix sockets and signals
// are scoped to the sandbox (ABI 6).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/child.h"
#include "sandbox/landlock_abi.h"

namespace airlock::sandbox {
namespace {

uint64_t rights_for(LandlockAccess access, uint64_t handled) {
  using namespace landlock;
  switch (access) {
    case LandlockAccess::read_execute:
      return (kExecute | kReadFile | kReadDir) & handled;
    case LandlockAccess::read_write:
      return handled;
    case LandlockAccess::device:
      return (kReadFile | kWriteFile | kReadDir | kTruncate | kIoctlDev) & handled;
  }
  return 0;
}

}  // namespace

bool apply_landlock(const ChildContext& context, Failure& failure) {
  if (context.landlock_abi <= 0) return true;  // reported as a missing layer by the supervisor
  const int abi = context.landlock_abi;
  landlock::RulesetAttr attr{};
  attr.handled_access_fs = landlock::handled_fs_for_abi(abi);
  size_t attr_size = sizeof(uint64_t);
  if (abi >= 6) {
    attr.scoped = landlock::kScopeAbstractUnixSocket | landlock::kScopeSignal;
    attr_size = sizeof attr;
  } else if (abi >= 4) {
    attr_size = 2 * sizeof(uint64_t);
  }
  int ruleset = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0));
  if (ruleset < 0) {
    failure = Failure{Step::landlock, errno, -1};
    return false;
  }
  for (const LandlockRule& rule : context.plan->landlock_rules) {
    int fd = ::open(rule.path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) continue;  // a path the view does not contain needs no rule
    struct stat info {};
    landlock::PathBeneathAttr beneath{};
    beneath.allowed_access = rights_for(rule.access, attr.handled_access_fs);
    if (::fstat(fd, &info) == 0 && !S_ISDIR(info.st_mode))
      beneath.allowed_access &= landlock::kFileRights;
    beneath.parent_fd = fd;
    long rc =
        ::syscall(SYS_landlock_add_rule, ruleset, landlock::kRuleTypePathBeneath, &beneath, 0);
    int saved = errno;
    ::close(fd);
    if (rc != 0) {
      ::close(ruleset);
      failure = Failure{Step::landlock, saved, -1};
      return false;
    }
  }
  long rc = ::syscall(SYS_landlock_restrict_self, ruleset, 0);
  int saved = errno;
  ::close(ruleset);
  if (rc != 0) {
    failure = Failure{Step::landlock, saved, -1};
    return false;
  }
  return true;
}

}  // namespace airlock::sandbox
