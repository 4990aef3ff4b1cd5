#include "sandbox/cgroup_limits.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <sstream>
#include <thread>

#include "common/errno_text.h"
#include "common/file_io.h"

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

uint64_t read_number(const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text) return 0;
  try {
    return std::stoull(*text);
  } catch (const std::exception&) {
    return 0;
  }
}

// "key value" lines, e.g. memory.oom_control's "oom_kill 1" or pids.events' "max 3".
uint64_t read_keyed(const std::string& path, const std::string& key) {
  Result<std::string> text = read_file(path);
  if (!text) return 0;
  std::istringstream lines(*text);
  std::string name;
  uint64_t value = 0;
  while (lines >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

// A supervisor killed by SIGKILL cannot remove its cgroups. rmdir only succeeds on an empty
// cgroup, so removing every empty "airlock-*" sibling is safe and keeps leftovers from piling up.
void remove_abandoned(const std::string& parent) {
  DIR* directory = ::opendir(parent.c_str());
  if (directory == nullptr) return;
  const time_t recent = ::time(nullptr) - 60;
  while (dirent* entry = ::readdir(directory)) {
    if (std::string(entry->d_name).rfind("airlock-", 0) != 0) continue;
    const std::string path = parent + "/" + entry->d_name;
    struct stat info {};
    // Another supervisor may have just created its cgroup and not yet moved its child in.
    if (::stat(path.c_str(), &info) != 0 || info.st_mtime > recent) continue;
    ::rmdir(path.c_str());
  }
  ::closedir(directory);
}

}  // namespace

std::optional<std::string> CgroupLimits::unavailable_reason(bool need_memory, bool need_pids) {
  if (need_memory && !controller_dir("memory")) {
    return "no writable cgroup v1 memory controller (a memory limit needs root here; cgroup v2 "
           "delegation is not supported yet)";
  }
  if (need_pids && !controller_dir("pids")) return "no writable cgroup v1 pids controller";
  return std::nullopt;
}

Result<CgroupLimits> CgroupLimits::create(const std::string& sandbox_id,
                                          std::optional<uint64_t> memory_bytes,
                                          std::optional<uint32_t> max_pids) {
  CgroupLimits limits;
  const std::string leaf = "/airlock-" + sandbox_id;
  if (memory_bytes) {
    std::optional<std::string> parent = controller_dir("memory");
    if (!parent) return Error{"cannot limit memory: " + *unavailable_reason(true, false)};
    remove_abandoned(*parent);
    limits.memory_dir_ = *parent + leaf;
    if (::mkdir(limits.memory_dir_.c_str(), 0755) != 0) {
      return Error{"cannot create cgroup " + limits.memory_dir_ + ": " + errno_text(errno)};
    }
    limits.directories_.push_back(limits.memory_dir_);
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
    std::optional<std::string> parent = controller_dir("pids");
    if (parent) {
      remove_abandoned(*parent);
      limits.pids_dir_ = *parent + leaf;
      if (::mkdir(limits.pids_dir_.c_str(), 0755) != 0) {
        return Error{"cannot create cgroup " + limits.pids_dir_ + ": " + errno_text(errno)};
      }
      limits.directories_.push_back(limits.pids_dir_);
      if (Status s = write_file(limits.pids_dir_ + "/pids.max", std::to_string(*max_pids)); !s)
        return s.error();
    }
  }
  return limits;
}

Status CgroupLimits::add(pid_t pid) const {
  for (const std::string& dir : directories_) {
    if (Status s = write_file(dir + "/cgroup.procs", std::to_string(pid)); !s) return s;
  }
  return ok_status();
}

CgroupUsage CgroupLimits::usage() const {
  CgroupUsage usage;
  if (!memory_dir_.empty()) {
    usage.peak_memory_bytes = read_number(memory_dir_ + "/memory.max_usage_in_bytes");
    usage.memory_limit_hits = read_number(memory_dir_ + "/memory.failcnt");
    usage.oom_kills = read_keyed(memory_dir_ + "/memory.oom_control", "oom_kill");
  }
  if (!pids_dir_.empty()) usage.pids_limit_hits = read_keyed(pids_dir_ + "/pids.events", "max");
  return usage;
}

CgroupLimits::~CgroupLimits() {
  // The kernel kills the namespace's processes when its init exits; they may take a moment to
  // leave the cgroup, and rmdir fails with EBUSY until they have.
  for (const std::string& dir : directories_) {
    for (int attempt = 0; attempt < 200 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

}  // namespace airlock::sandbox
