#include "control/sandbox_usage.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace airlock::control {
namespace {

uint64_t resident_bytes(const std::string& process) {
  FILE* statm = std::fopen(("/proc/" + process + "/statm").c_str(), "re");
  if (statm == nullptr) return 0;
  unsigned long long size = 0;
  unsigned long long resident = 0;
  const int read = std::fscanf(statm, "%llu %llu", &size, &resident);
  (void)std::fclose(statm);
  return read == 2 ? resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace

nlohmann::json sandbox_usage(const egress::PidNamespaceId& sandbox, pid_t init) {
  const std::string init_name = std::to_string(init);
  uint64_t processes = 1;
  uint64_t memory = resident_bytes(init_name);
  DIR* proc = ::opendir("/proc");
  if (proc != nullptr) {
    while (const dirent* entry = ::readdir(proc)) {
      const std::string name = entry->d_name;
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos ||
          name == init_name) {
        continue;
      }
      struct stat info {};
      if (::stat(("/proc/" + name + "/ns/pid").c_str(), &info) != 0) continue;
      if (info.st_dev != sandbox.device || info.st_ino != sandbox.inode) continue;
      ++processes;
      memory += resident_bytes(name);
    }
    ::closedir(proc);
  }
  return {{"pids", processes}, {"memory_bytes", memory}, {"source", "proc"}};
}

}  // namespace airlock::control
