#include "sandbox/cgroup_v1.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <utility>

#include "common/errno_text.h"
#include "common/file_io.h"
#include "sandbox/cgroup_files.h"

namespace airlock::sandbox {
namespace {

constexpr const char* kV1Root = "/sys/fs/cgroup";

// Our own cgroup in a v1 hierarchy, from /proc/self/cgroup ("4:memory:/some/path").
std::optional<std::string> own_v1_path(const std::string& controller) {
  Result<std::string> content = read_file("/proc/self/cgroup");
  if (!content) return std::nullopt;
  std::istringstream lines(*content);
  std::string line;
  while (std::getline(lines, line)) {
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name == controller) return line.substr(second + 1);
    }
  }
  return std::nullopt;
}

std::optional<std::string> controller_dir(const std::string& controller) {
  std::optional<std::string> own = own_v1_path(controller);
  if (!own) return std::nullopt;
  std::string dir = std::string(kV1Root) + "/" + controller + (*own == "/" ? "" : *own);
  if (::access(dir.c_str(), W_OK) != 0) return std::nullopt;
  return dir;
}

std::string unwritable(const char* controller) {
  return std::string("no writable ") + controller + " controller (needs root)";
}

}  // namespace

Result<std::string> CgroupV1Limits::make_leaf(const char* controller, const std::string& leaf) {
  std::optional<std::string> parent = controller_dir(controller);
  if (!parent) {
    return Error{std::string("cannot limit ") + controller +
                 ": cgroup v1: " + unwritable(controller)};
  }
  remove_abandoned_cgroups(*parent);
  const std::string dir = *parent + leaf;
  if (::mkdir(dir.c_str(), 0755) != 0) {
    return Error{"cannot create cgroup " + dir + ": " + errno_text(errno)};
  }
  directories_.push_back(dir);
  return dir;
}

std::optional<std::string> CgroupV1Limits::unavailable_reason(bool need_memory, bool need_pids) {
  if (need_memory && !controller_dir("memory")) return unwritable("memory");
  if (need_pids && !controller_dir("pids")) return unwritable("pids");
  return std::nullopt;
}

Result<CgroupV1Limits> CgroupV1Limits::create(const std::string& sandbox_id,
                                              std::optional<uint64_t> memory_bytes,
                                              std::optional<uint32_t> max_pids) {
  CgroupV1Limits limits;
  const std::string leaf = "/airlock-" + sandbox_id;
  if (memory_bytes) {
    Result<std::string> dir = limits.make_leaf("memory", leaf);
    if (!dir) return dir.error();
    limits.memory_dir_ = *dir;
    const std::string bytes = std::to_string(*memory_bytes);
    if (Status s = write_file(limits.memory_dir_ + "/memory.limit_in_bytes", bytes); !s)
      return s.error();
    // Swap would let the sandbox exceed its limit on the host's disk: cap memory+swap too.
    if (::access((limits.memory_dir_ + "/memory.memsw.limit_in_bytes").c_str(), W_OK) == 0) {
      if (Status s = write_file(limits.memory_dir_ + "/memory.memsw.limit_in_bytes", bytes); !s)
        return s.error();
    } else {
      if (Status s = write_file(limits.memory_dir_ + "/memory.swappiness", "0"); !s)
        return s.error();
    }
  }
  if (max_pids) {
    Result<std::string> dir = limits.make_leaf("pids", leaf);
    if (!dir) return dir.error();
    limits.pids_dir_ = *dir;
    if (Status s = write_file(limits.pids_dir_ + "/pids.max", std::to_string(*max_pids)); !s)
      return s.error();
  }
  return limits;
}

Status CgroupV1Limits::add(pid_t pid) const {
  for (const std::string& dir : directories_) {
    if (Status s = write_file(dir + "/cgroup.procs", std::to_string(pid)); !s) return s;
  }
  return ok_status();
}

CgroupUsage CgroupV1Limits::usage() const {
  CgroupUsage usage;
  if (!memory_dir_.empty()) {
    usage.peak_memory_bytes = read_cgroup_number(memory_dir_ + "/memory.max_usage_in_bytes");
    usage.memory_limit_hits = read_cgroup_number(memory_dir_ + "/memory.failcnt").value_or(0);
    usage.oom_kills = read_keyed_number(memory_dir_ + "/memory.oom_control", "oom_kill");
  }
  if (!pids_dir_.empty())
    usage.pids_limit_hits = read_keyed_number(pids_dir_ + "/pids.events", "max");
  return usage;
}

Status CgroupV1Limits::remove() {
  Status result = ok_status();
  for (const std::string& dir : directories_) {
    if (Status removed = remove_cgroup(dir); result && !removed) result = std::move(removed);
  }
  directories_.clear();
  return result;
}

}  // namespace airlock::sandbox
