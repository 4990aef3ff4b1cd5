#include "audit/log_tail.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "common/errno_text.h"

namespace airlock::audit {
namespace {

constexpr off_t kBlockSize = 4096;

Status pread_exactly(int fd, char* buffer, size_t size, off_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd, buffer + done, size - done, offset + static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Error{"cannot read the audit log's last line: " + errno_text(errno)};
    if (got == 0) return Error{"cannot read the audit log's last line: the file shrank"};
    done += static_cast<size_t>(got);
  }
  return ok_status();
}

}  // namespace

Result<std::optional<LastLine>> read_last_line(int fd, off_t end) {
  if (end <= 0) return std::optional<LastLine>{};
  LastLine line;
  char last_byte = 0;
  if (Status read = pread_exactly(fd, &last_byte, 1, end - 1); !read) return read.error();
  line.terminated = last_byte == '\n';
  const off_t line_end = line.terminated ? end - 1 : end;

  // Blocks from the end backwards until one holds the newline that ends the line before.
  std::vector<std::string> blocks;  // last block first
  for (off_t cursor = line_end; cursor > 0;) {
    const off_t start = std::max<off_t>(0, cursor - kBlockSize);
    std::string block(static_cast<size_t>(cursor - start), '\0');
    if (Status read = pread_exactly(fd, block.data(), block.size(), start); !read) {
      return read.error();
    }
    const size_t newline = block.rfind('\n');
    if (newline != std::string::npos) {
      blocks.push_back(block.substr(newline + 1));
      break;
    }
    blocks.push_back(std::move(block));
    cursor = start;
  }
  for (auto block = blocks.rbegin(); block != blocks.rend(); ++block) line.text += *block;
  return std::optional<LastLine>(std::move(line));
}

}  // namespace airlock::audit
