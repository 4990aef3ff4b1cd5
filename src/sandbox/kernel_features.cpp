#include "sandbox/kernel_features.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "common/file_io.h"
#include "sandbox/landlock_abi.h"

namespace airlock::sandbox {

int landlock_abi_version() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, landlock::kCreateRulesetVersion);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

int last_capability() {
  Result<std::string> text = read_file("/proc/sys/kernel/cap_last_cap");
  if (!text) return CAP_LAST_CAP;
  try {
    return std::stoi(*text);
  } catch (const std::exception&) {
    return CAP_LAST_CAP;
  }
}

}  // namespace airlock::sandbox
