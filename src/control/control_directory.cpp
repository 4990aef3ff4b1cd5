#include "control/control_directory.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "common/errno_text.h"

namespace airlock::control {
namespace {

bool owned_directory(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode) && info.st_uid == ::geteuid();
}

}  // namespace

std::string control_directory() {
  const uid_t uid = ::geteuid();
  if (uid == 0) return "/run/airlock";
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/' && owned_directory(runtime))
    return std::string(runtime) + "/airlock";
  const std::string user_run = fmt::format("/run/user/{}", uid);
  if (owned_directory(user_run)) return user_run + "/airlock";
  return fmt::format("/tmp/airlock-{}", uid);
}

std::vector<std::string> control_directories_to_hide() {
  std::vector<std::string> directories = {"/run/airlock", control_directory()};
  std::sort(directories.begin(), directories.end());
  directories.erase(std::unique(directories.begin(), directories.end()), directories.end());
  return directories;
}

Result<std::string> ensure_control_directory() {
  const std::string directory = control_directory();
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error{
        fmt::format("cannot create the control directory {}: {}", directory, errno_text(errno))};
  }
  struct stat info {};
  if (::lstat(directory.c_str(), &info) != 0) {
    return Error{
        fmt::format("cannot inspect the control directory {}: {}", directory, errno_text(errno))};
  }
  if (!S_ISDIR(info.st_mode) || info.st_uid != ::geteuid() || (info.st_mode & 077) != 0) {
    return Error{fmt::format(
        "the control directory {} is not a directory of ours with mode 0700 (owner uid {}, mode "
        "{:o}); remove it or fix it",
        directory, info.st_uid, info.st_mode & 07777)};
  }
  return directory;
}

bool valid_sandbox_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.front() == '.' || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string socket_path(const std::string& directory, const std::string& name) {
  return directory + "/" + name + ".sock";
}

std::vector<std::string> listed_sandbox_names() {
  std::vector<std::string> names;
  DIR* directory = ::opendir(control_directory().c_str());
  if (directory == nullptr) return names;
  while (const dirent* entry = ::readdir(directory)) {
    std::string file = entry->d_name;
    const std::string suffix = ".sock";
    if (file.size() > suffix.size() &&
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string name = file.substr(0, file.size() - suffix.size());
      if (valid_sandbox_name(name)) names.push_back(name);
    }
  }
  ::closedir(directory);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace airlock::control
