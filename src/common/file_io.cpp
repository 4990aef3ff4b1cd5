#include "common/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/errno_text.h"
#include "common/unique_fd.h"

namespace airlock {

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error{"cannot open " + path + ": " + errno_text(errno)};
  std::string content;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{"cannot read " + path + ": " + errno_text(errno)};
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

Status write_file(const std::string& path, const std::string& content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Error{"cannot open " + path + ": " + errno_text(errno)};
  ssize_t n = ::write(fd.get(), content.data(), content.size());
  if (n < 0) return Error{"cannot write " + path + ": " + errno_text(errno)};
  if (static_cast<size_t>(n) != content.size()) return Error{"short write to " + path};
  return ok_status();
}

}  // namespace airlock
