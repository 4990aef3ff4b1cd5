#include "credentials/stream_redactor.h"

#include <algorithm>

namespace airlock::credentials {

StreamRedactor::StreamRedactor(std::vector<Pair> pairs) {
  for (Pair& pair : pairs) {
    if (!pair.needle.empty() && pair.needle.size() == pair.replacement.size())
      pairs_.push_back(std::move(pair));
  }
}

// The longest proper prefix of a needle that `bytes` ends with.
size_t StreamRedactor::hold_length(std::string_view bytes) const {
  size_t hold = 0;
  for (const Pair& pair : pairs_) {
    const size_t longest = std::min(bytes.size(), pair.needle.size() - 1);
    for (size_t length = longest; length > hold; --length) {
      if (bytes.substr(bytes.size() - length) == std::string_view(pair.needle).substr(0, length)) {
        hold = length;
        break;
      }
    }
  }
  return hold;
}

void StreamRedactor::feed(std::string_view in, std::string& out) {
  if (pairs_.empty()) {
    out.append(in);
    return;
  }
  std::string buffer = std::move(held_);
  buffer.append(in);
  for (const Pair& pair : pairs_) {
    size_t at = 0;
    while ((at = buffer.find(pair.needle, at)) != std::string::npos) {
      buffer.replace(at, pair.needle.size(), pair.replacement);
      at += pair.needle.size();
      ++replacements_;
    }
  }
  const size_t hold = hold_length(buffer);
  out.append(buffer, 0, buffer.size() - hold);
  held_ = buffer.substr(buffer.size() - hold);
}

void StreamRedactor::flush(std::string& out) {
  out += held_;
  held_.clear();
}

}  // namespace airlock::credentials
