#include "explain/host_support.h"

#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include "common/file_io.h"
#include "sandbox/cgroup_limits.h"
#include "sandbox/kernel_features.h"

namespace airlock::explain {
namespace {

CgroupSupport from_choice(const std::optional<sandbox::CgroupVersion>& version,
                          const std::string& problem) {
  if (version) return CgroupSupport{std::string(sandbox::layer_name(*version)), ""};
  return CgroupSupport{std::nullopt, problem};
}

// A sysctl holding a number; nullopt when the file is absent (the knob does not exist here).
std::optional<long> sysctl_number(const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text) return std::nullopt;
  try {
    return std::stol(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string user_namespace_problem(bool root) {
  std::optional<long> limit = sysctl_number("/proc/sys/user/max_user_namespaces");
  if (limit && *limit == 0) return "user namespaces are disabled (user.max_user_namespaces = 0)";
  // Debian's own switch for unprivileged users; root is not subject to it.
  std::optional<long> unprivileged = sysctl_number("/proc/sys/kernel/unprivileged_userns_clone");
  if (!root && unprivileged && *unprivileged == 0) {
    return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)";
  }
  return "";
}

}  // namespace

HostSupport probe_host_support() {
  HostSupport host;
  host.probed = true;
  host.uid = ::getuid();
  host.gid = ::getgid();
  host.root = ::geteuid() == 0;  // what make_launch_plan decides started_by_root by
  host.landlock_abi = sandbox::landlock_abi_version();
  // Each limit is placed on its own, as the supervisor does (choose_cgroups changes nothing).
  const sandbox::CgroupChoice choice = sandbox::choose_cgroups(true, true);
  host.memory = from_choice(choice.memory, choice.memory_problem);
  host.pids = from_choice(choice.pids, choice.pids_problem);
  host.user_namespace_problem = user_namespace_problem(host.root);
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_max != RLIM_INFINITY)
    host.open_files_hard_limit = files.rlim_max;
  return host;
}

HostSupport fixed_host_support() {
  HostSupport host;
  host.uid = 1000;
  host.gid = 1000;
  host.landlock_abi = 6;
  const std::string problem =
      "cgroup v2: airlock's cgroup is not delegated to uid 1000 (fixed host); cgroup v1: no "
      "writable controller (needs root)";
  host.memory = CgroupSupport{std::nullopt, problem};
  host.pids = CgroupSupport{std::nullopt, problem};
  host.open_files_hard_limit = 524288;
  return host;
}

}  // namespace airlock::explain
