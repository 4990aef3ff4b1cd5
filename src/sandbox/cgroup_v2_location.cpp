#include "sandbox/cgroup_v2_location.h"

#include <sstream>

#include "common/file_io.h"

namespace airlock::sandbox {
namespace {

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
std::string decode_octal_escapes(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string digits = field.substr(i + 1, 3);
      if (digits.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::stoi(digits, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

}  // namespace

std::optional<std::string> cgroup2_mount_point(const std::string& mountinfo) {
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    // "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS"
    std::istringstream fields(line);
    std::vector<std::string> before;
    std::string field;
    while (fields >> field && field != "-") before.push_back(field);
    std::string fstype;
    if (before.size() < 5 || !(fields >> fstype) || fstype != "cgroup2") continue;
    return decode_octal_escapes(before[4]);
  }
  return std::nullopt;
}

std::optional<std::string> cgroup2_own_path(const std::string& proc_cgroup) {
  std::istringstream lines(proc_cgroup);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("0::", 0) == 0 && line.size() > 3) return line.substr(3);
  }
  return std::nullopt;
}

std::vector<std::string> cgroup_controller_names(const std::string& text) {
  std::istringstream words(text);
  std::vector<std::string> names;
  std::string name;
  while (words >> name) names.push_back(name);
  return names;
}

Result<Cgroup2Location> locate_own_cgroup2() {
  Result<std::string> mountinfo = read_file("/proc/self/mountinfo");
  if (!mountinfo) return mountinfo.error();
  std::optional<std::string> mount = cgroup2_mount_point(*mountinfo);
  if (!mount) return Error{"no cgroup2 filesystem is mounted"};
  Result<std::string> membership = read_file("/proc/self/cgroup");
  if (!membership) return membership.error();
  std::optional<std::string> path = cgroup2_own_path(*membership);
  // A path outside our cgroup namespace's root shows as "/.." and cannot be reached by path.
  if (!path || path->rfind("/", 0) != 0 || path->find("/..") != std::string::npos) {
    return Error{"this process's cgroup v2 is not visible in /proc/self/cgroup"};
  }
  return Cgroup2Location{*mount, *path};
}

}  // namespace airlock::sandbox
