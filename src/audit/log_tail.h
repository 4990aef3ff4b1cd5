// The last line of an open log, read backwards from a known end so a writer that appends to a
// large file reads one or two blocks, not the file.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/result.h"

namespace airlock::audit {

struct LastLine {
  std::string text;         // without its newline
  bool terminated = false;  // false: the file ends mid-line (a writer stopped before its '\n')
};

// The line that ends at `end` (the file's size); nullopt for an empty file.
Result<std::optional<LastLine>> read_last_line(int fd, off_t end);

}  // namespace airlock::audit
