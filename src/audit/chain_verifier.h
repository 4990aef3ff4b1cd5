// Checks an audit log's hash chain from its first line to its last and names the first line
// where it breaks, with the edit that likely broke it (docs/audit.md lists what is caught).
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "audit/audit_chain.h"

namespace airlock::audit {

struct ChainVerdict {
  bool intact = false;
  uint64_t lines = 0;        // read before the verdict (all of them when intact)
  uint64_t last_seq = 0;     // when intact: the chain runs seq 1..last_seq, one line each
  std::string last_sha256;   // the last line's hash: what to ship elsewhere
  uint64_t broken_line = 0;  // 1-based; 0 for a break with no line (the pinned hash is absent)
  std::string problem;       // what broke, and the edit that likely broke it
  int read_errno = 0;        // non-zero: the log could not be read to its end
};

// Fed one line at a time, in order. A line is judged when the next arrives (or at finish()):
// telling a swap from a deletion, or an inserted line from an edited one, needs one line ahead.
class ChainVerifier {
 public:
  // `pinned_sha256`: a last hash shipped elsewhere earlier; some line must still have it.
  explicit ChainVerifier(std::optional<std::string> pinned_sha256 = std::nullopt);

  void add_line(std::string_view text, bool terminated);  // text without its newline
  bool broken() const { return !verdict_.problem.empty(); }
  ChainVerdict finish();

 private:
  struct Line {
    uint64_t number = 0;
    bool terminated = true;
    bool empty = false;
    LineChain chain;
    std::string sha256;
  };
  void judge(const Line& line, const std::optional<Line>& next);
  void judge_link(const Line& line, const std::optional<Line>& next);
  void fail(uint64_t line_number, std::string problem);

  std::optional<std::string> pinned_sha256_;
  uint64_t pinned_line_ = 0;
  std::optional<Line> before_previous_;  // the two lines before `pending_`
  std::optional<Line> previous_;
  std::optional<Line> pending_;    // read, waiting for the line after it
  uint64_t unchained_prefix_ = 0;  // lines before the chain began without seq/prev
  bool chain_started_ = false;
  ChainVerdict verdict_;
};

// The whole stream, line by line (big files are fine); stops at the first break.
ChainVerdict verify_chain(std::istream& log,
                          std::optional<std::string> pinned_sha256 = std::nullopt);

}  // namespace airlock::audit
