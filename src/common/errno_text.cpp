#include "common/errno_text.h"

#include <string.h>

namespace airlock {

std::string errno_text(int errnum) {
  // strerrordesc_np is async-signal-safe and thread-safe (glibc >= 2.32).
  const char* description = strerrordesc_np(errnum);
  const char* name = strerrorname_np(errnum);
  if (description == nullptr) return "errno " + std::to_string(errnum);
  return std::string(description) + " (" + (name != nullptr ? name : "?") + ")";
}

}  // namespace airlock
