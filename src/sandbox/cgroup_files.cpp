#include "sandbox/cgroup_files.h"

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

std::optional<uint64_t> read_cgroup_number(const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text) return std::nullopt;
  try {
    return std::stoull(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

uint64_t read_keyed_number(const std::string& path, const std::string& key) {
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

Status remove_cgroup(const std::string& dir) {
  // The kernel kills the namespace's processes when its init exits; they may take a moment to
  // leave the cgroup, and rmdir fails with EBUSY until they have.
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return ok_status();
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Error{"cannot remove cgroup " + dir + ": " + errno_text(errno)};
}

void remove_abandoned_cgroups(const std::string& parent) {
  // rmdir only succeeds on an empty cgroup, so removing every empty "airlock-*" child is safe.
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

}  // namespace airlock::sandbox
