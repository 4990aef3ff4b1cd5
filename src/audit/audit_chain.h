// The audit log's hash chain, line by line: every line carries `seq` (one more than the line
// before) and `prev` (the SHA-256 of the line before, as written, without its newline).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace airlock::audit {

// `prev` of a file's first line: no line came before it.
inline constexpr std::string_view kFirstPrev =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string sha256_hex(std::string_view bytes);  // lower-case hex

// What one line says about its place in the chain. Read, never trusted: the verifier compares.
struct LineChain {
  bool json_object = false;
  bool has_seq = false;  // the key is there, whatever its value
  bool has_prev = false;
  std::optional<uint64_t> seq;      // when it is a positive integer
  std::optional<std::string> prev;  // when it is 64 lower-case hex digits
  bool chained() const { return seq.has_value() && prev.has_value(); }
};

LineChain read_line_chain(std::string_view line);

// Where the next event continues the chain: after the log's last line (seq 0 when that line
// carries none: a file written before the chain, or a writer that died mid-line).
struct ChainPosition {
  uint64_t seq = 0;
  std::string sha256 = std::string(kFirstPrev);
};

ChainPosition position_after(std::string_view last_line);

// The line that follows `after`: `event_object`, one serialised JSON object without chain
// fields, with "seq" and "prev" put first (the event's own keys keep their order after them).
std::string chain_line(const ChainPosition& after, std::string_view event_object);

}  // namespace airlock::audit
