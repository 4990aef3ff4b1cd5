#include "sandbox/cgroup_v2_delegation.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "common/errno_text.h"
#include "common/file_io.h"
#include "sandbox/cgroup_files.h"

namespace airlock::sandbox {
namespace {

constexpr const char* kDelegateHint =
    "start airlock alone in a delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes "
    "airlock run ...";

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// On hybrid hosts a controller bound to a v1 hierarchy can never appear in cgroup2
// (/proc/cgroups: "name hierarchy num_cgroups enabled", hierarchy 0 means v2 or unused).
bool bound_to_v1(const std::string& controller) {
  Result<std::string> table = read_file("/proc/cgroups");
  if (!table) return false;
  std::istringstream lines(*table);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    int hierarchy = 0;
    if (fields >> name >> hierarchy && name == controller) return hierarchy != 0;
  }
  return false;
}

std::optional<std::string> unwritable(const std::string& dir) {
  for (const std::string& path : {dir, dir + "/cgroup.procs", dir + "/cgroup.subtree_control"}) {
    if (::access(path.c_str(), W_OK) != 0) return path + " (" + errno_text(errno) + ")";
  }
  return std::nullopt;
}

// Processes other than this one in the cgroup, which would forbid enabling controllers.
Result<size_t> other_members(const std::string& dir) {
  Result<std::string> procs = read_file(dir + "/cgroup.procs");
  if (!procs) return procs.error();
  std::istringstream pids(*procs);
  size_t others = 0;
  for (pid_t pid = 0; pids >> pid;) others += pid != ::getpid() ? 1 : 0;
  return others;
}

}  // namespace

Result<DelegationPlan> plan_delegation(const std::vector<std::string>& controllers) {
  Result<Cgroup2Location> own = locate_own_cgroup2();
  if (!own) return own.error();
  const std::string dir = own->directory();
  if (std::optional<std::string> path = unwritable(dir)) {
    return Error{fmt::format("{} is not delegated to uid {}: cannot write {}; {}", dir, ::getuid(),
                             *path, kDelegateHint)};
  }
  Result<std::string> offered = read_file(dir + "/cgroup.controllers");
  if (!offered) return offered.error();
  const std::vector<std::string> available = cgroup_controller_names(*offered);
  for (const std::string& controller : controllers) {
    if (contains(available, controller)) continue;
    const std::string why = bound_to_v1(controller)
                                ? "it is bound to a cgroup v1 hierarchy on this host"
                                : "the parent has not delegated it (Delegate=yes)";
    return Error{
        fmt::format("{} does not offer the {} controller ({}; it offers: {})", dir, controller, why,
                    available.empty() ? "none" : fmt::format("{}", fmt::join(available, " ")))};
  }
  Result<std::string> enabled = read_file(dir + "/cgroup.subtree_control");
  if (!enabled) return enabled.error();
  DelegationPlan plan{*own, {}};
  for (const std::string& controller : controllers) {
    if (!contains(cgroup_controller_names(*enabled), controller))
      plan.to_enable.push_back(controller);
  }
  if (plan.to_enable.empty()) return plan;
  Result<size_t> others = other_members(dir);
  if (!others) return others.error();
  if (*others > 0) {
    return Error{fmt::format(
        "{} is shared with {} other process(es): cgroup v2's \"no internal processes\" rule "
        "then forbids enabling {} for a child cgroup; {}",
        dir, *others, fmt::join(plan.to_enable, " "), kDelegateHint)};
  }
  return plan;
}

Result<DelegatedCgroup> DelegatedCgroup::create(const DelegationPlan& plan,
                                                const std::string& sandbox_id) {
  DelegatedCgroup cgroup;
  cgroup.own_dir_ = plan.own.directory();
  remove_abandoned_cgroups(cgroup.own_dir_);
  if (!plan.to_enable.empty()) {
    const std::string leaf = cgroup.own_dir_ + "/airlock-supervisor-" + sandbox_id;
    if (::mkdir(leaf.c_str(), 0755) != 0) {
      return Error{"cannot create cgroup " + leaf + ": " + errno_text(errno)};
    }
    cgroup.supervisor_dir_ = leaf;
    // Writing our pid moves every thread of this process.
    if (Status moved = write_file(leaf + "/cgroup.procs", std::to_string(::getpid())); !moved) {
      return Error{"cannot move the supervisor into its own cgroup: " + moved.error().message};
    }
    for (const std::string& controller : plan.to_enable) {
      if (Status on = write_file(cgroup.own_dir_ + "/cgroup.subtree_control", "+" + controller);
          !on) {
        return Error{"cannot enable the cgroup v2 " + controller +
                     " controller: " + on.error().message};
      }
      cgroup.enabled_.push_back(controller);
    }
  }
  const std::string sandbox_dir = cgroup.own_dir_ + "/airlock-" + sandbox_id;
  if (::mkdir(sandbox_dir.c_str(), 0755) != 0) {
    return Error{"cannot create cgroup " + sandbox_dir + ": " + errno_text(errno)};
  }
  cgroup.sandbox_dir_ = sandbox_dir;
  return cgroup;
}

DelegatedCgroup::DelegatedCgroup(DelegatedCgroup&& other) noexcept
    : own_dir_(std::move(other.own_dir_)),
      sandbox_dir_(std::exchange(other.sandbox_dir_, {})),
      supervisor_dir_(std::exchange(other.supervisor_dir_, {})),
      enabled_(std::exchange(other.enabled_, {})) {}

Status DelegatedCgroup::add(pid_t pid) const {
  return write_file(sandbox_dir_ + "/cgroup.procs", std::to_string(pid));
}

Status DelegatedCgroup::remove() {
  Status result = ok_status();
  auto keep_first = [&result](Status step) {
    if (result && !step) result = std::move(step);
  };
  if (!sandbox_dir_.empty()) keep_first(remove_cgroup(std::exchange(sandbox_dir_, {})));
  // A cgroup with controllers enabled for its children accepts no process: disable them first.
  for (auto controller = enabled_.rbegin(); controller != enabled_.rend(); ++controller) {
    keep_first(write_file(own_dir_ + "/cgroup.subtree_control", "-" + *controller));
  }
  enabled_.clear();
  if (!supervisor_dir_.empty()) {
    keep_first(write_file(own_dir_ + "/cgroup.procs", std::to_string(::getpid())));
    keep_first(remove_cgroup(std::exchange(supervisor_dir_, {})));
  }
  return result;
}

}  // namespace airlock::sandbox
