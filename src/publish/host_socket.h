// The host end of a publish entry: a Unix stream socket at the policy's path, with the policy's
// mode, that airlock listens on. Missing parent directories are created (0755) and removed at
// the end if still empty; a stale socket there (nobody listening) is replaced; anything else at
// the path is an error, never removed. At the end the socket is removed only if the path still
// names the one we bound (same inode).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::publish {

class HostSocket {
 public:
  static Result<HostSocket> listen(const std::string& path, uint32_t mode);
  HostSocket(HostSocket&& other) noexcept;
  HostSocket& operator=(HostSocket&&) = delete;
  HostSocket(const HostSocket&) = delete;
  ~HostSocket();

  int fd() const { return listener_.get(); }
  const std::string& path() const { return path_; }

 private:
  HostSocket(UniqueFd listener, std::string path, ino_t inode, std::vector<std::string> made)
      : listener_(std::move(listener)),
        path_(std::move(path)),
        inode_(inode),
        made_directories_(std::move(made)) {}
  UniqueFd listener_;
  std::string path_;
  ino_t inode_ = 0;
  std::vector<std::string> made_directories_;  // deepest last
};

}  // namespace airlock::publish
