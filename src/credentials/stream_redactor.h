// Replaces secrets in a byte stream as it passes, without buffering it: what the proxy relays
// from a credential's host has the real value turned back into the placeholder, so the real
// value never comes into the sandbox, even when an origin echoes request headers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace airlock::credentials {

class StreamRedactor {
 public:
  struct Pair {
    std::string needle;       // what must not pass
    std::string replacement;  // same length, so framing (Content-Length, chunk sizes) holds
  };
  // Pairs whose lengths differ, or with an empty needle, are dropped.
  explicit StreamRedactor(std::vector<Pair> pairs);

  // Appends to `out` every byte that can no longer be part of a needle, replaced where a needle
  // was found; keeps back only the stream's longest ending that could still grow into one, so an
  // event stream's tokens pass as they come. Any split of the stream gives the same output.
  void feed(std::string_view in, std::string& out);
  // The stream ended: releases what was kept back.
  void flush(std::string& out);
  size_t held() const { return held_.size(); }
  size_t replacements() const { return replacements_; }

 private:
  size_t hold_length(std::string_view bytes) const;

  std::vector<Pair> pairs_;
  std::string held_;
  size_t replacements_ = 0;
};

}  // namespace airlock::credentials
