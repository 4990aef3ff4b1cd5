#include "audit/chain_verifier.h"

#include <cerrno>

#include <fmt/format.h>

namespace airlock::audit {
namespace {

std::string line_range(uint64_t first, uint64_t last) {
  return first == last ? fmt::format("line {}", first) : fmt::format("lines {}-{}", first, last);
}

std::string plural_lines(uint64_t count) {
  return fmt::format("{} line{}", count, count == 1 ? "" : "s");
}

}  // namespace

ChainVerifier::ChainVerifier(std::optional<std::string> pinned_sha256)
    : pinned_sha256_(std::move(pinned_sha256)) {}

void ChainVerifier::fail(uint64_t line_number, std::string problem) {
  if (broken()) return;
  verdict_.broken_line = line_number;
  verdict_.problem = std::move(problem);
}

void ChainVerifier::add_line(std::string_view text, bool terminated) {
  if (broken()) return;
  Line line;
  line.number = ++verdict_.lines;
  line.terminated = terminated;
  line.empty = text.empty();
  line.chain = read_line_chain(text);
  line.sha256 = sha256_hex(text);
  if (pinned_sha256_ && pinned_line_ == 0 && line.sha256 == *pinned_sha256_) {
    pinned_line_ = line.number;
  }
  if (pending_) judge(*pending_, line);
  before_previous_ = std::move(previous_);
  previous_ = std::move(pending_);
  pending_ = std::move(line);
}

ChainVerdict ChainVerifier::finish() {
  if (pending_ && !broken()) judge(*pending_, std::nullopt);
  if (!broken() && unchained_prefix_ > 0) {
    const std::string prefix = line_range(1, unchained_prefix_);
    if (!chain_started_) {
      fail(1, fmt::format("{} carry no seq or prev (written before airlock chained its audit "
                          "log): nothing in this file is covered; start a new file",
                          prefix));
    } else {
      fail(1, fmt::format("{} carry no seq or prev (written before airlock chained its audit "
                          "log) and are not covered; the chain from line {} holds (seq 1..{}, "
                          "last sha256 {})",
                          prefix, unchained_prefix_ + 1, *pending_->chain.seq, pending_->sha256));
    }
  }
  if (!broken() && pinned_sha256_ && pinned_line_ == 0) {
    fail(0, fmt::format("no line has the expected sha256 {}: the line it was taken from was "
                        "edited or removed (the log's tail rewritten or cut)",
                        *pinned_sha256_));
  }
  verdict_.intact = !broken();
  if (verdict_.intact && pending_) {
    verdict_.last_seq = *pending_->chain.seq;
    verdict_.last_sha256 = pending_->sha256;
  }
  return verdict_;
}

void ChainVerifier::judge(const Line& line, const std::optional<Line>& next) {
  const uint64_t n = line.number;
  if (!line.terminated) {
    return fail(n,
                "the last line has no newline: it is incomplete (a writer stopped mid-line, "
                "or the file was cut here)");
  }
  if (line.empty) {
    return fail(n, "an empty line (airlock never writes one): inserted, or a line's text removed");
  }
  if (!line.chain.json_object) {
    return fail(n,
                "not a JSON object: the line was cut short (a writer stopped mid-line, or the "
                "file was cut here and appended to later) or edited");
  }
  if (!line.chain.has_seq && !line.chain.has_prev) {
    if (!chain_started_) {
      ++unchained_prefix_;  // an older airlock's lines: reported at finish() unless worse comes
      return;
    }
    return fail(n,
                "no seq or prev: a line airlock did not write (inserted), or its chain fields "
                "removed");
  }
  if (!line.chain.seq) {
    return fail(n, line.chain.has_seq ? "seq is not a positive integer: the line was edited"
                                      : "seq is missing: the line was edited");
  }
  if (!line.chain.prev) {
    return fail(n, line.chain.has_prev ? "prev is not 64 lower-case hex digits: the line was edited"
                                       : "prev is missing: the line was edited");
  }
  judge_link(line, next);
}

// The line is chained; does it follow the line before it? When not, the lines around it tell
// which edit is the likely one.
void ChainVerifier::judge_link(const Line& line, const std::optional<Line>& next) {
  const bool first_chained = !chain_started_;
  chain_started_ = true;
  const uint64_t n = line.number;
  const uint64_t seq = *line.chain.seq;
  const std::string& prev = *line.chain.prev;
  // The line before: chained, the last of an unchained prefix (seq 0), or none (seq 0, zeros).
  const uint64_t before_seq = previous_ ? previous_->chain.seq.value_or(0) : 0;
  const std::string before_sha = previous_ ? previous_->sha256 : std::string(kFirstPrev);
  const uint64_t expected = before_seq + 1;
  if (seq == expected && prev == before_sha) return;

  if (previous_ && line.sha256 == before_sha) {
    return fail(n, fmt::format("a copy of line {}", n - 1));
  }
  const bool next_chained = next && next->chain.chained();
  const uint64_t next_seq = next_chained ? *next->chain.seq : 0;
  const bool next_continues_before =
      next_chained && next_seq == expected && *next->chain.prev == before_sha;
  if (next_continues_before && seq == expected + 1 && prev == next->sha256) {
    return fail(n, fmt::format("lines {} and {} are swapped (seq {} comes before seq {})", n, n + 1,
                               seq, expected));
  }
  if (next_continues_before) {
    return fail(n, fmt::format("inserted: line {} carries seq {} and chains from the line "
                               "before this one",
                               n + 1, expected));
  }
  if (prev == before_sha) {
    return fail(n, fmt::format("seq {}, expected {}: the line's seq was edited (its prev matches "
                               "the line before)",
                               seq, expected));
  }
  if (first_chained && unchained_prefix_ > 0) {
    if (seq == expected) {
      return fail(n - 1, fmt::format("edited: line {} begins the chain with a prev that is not "
                                     "this line's sha256",
                                     n));
    }
    return fail(n - 1, fmt::format("no seq or prev, yet line {} continues a chain at seq {}: "
                                   "this line's chain fields were removed, or lines before it "
                                   "deleted",
                                   n, seq));
  }
  if (seq == expected) {
    if (!previous_) {
      return fail(n,
                  "the first line's prev is not 64 zeros: the line was edited, or unchained "
                  "lines before it deleted");
    }
    if (next_chained && next_seq == seq + 1 && *next->chain.prev == line.sha256) {
      return fail(n - 1, fmt::format("edited: its sha256 no longer matches the prev recorded by "
                                     "line {}",
                                     n));
    }
    if (next_chained && next_seq == seq + 1) {
      return fail(n, fmt::format("edited: its prev does not match line {}, and line {} records "
                                 "a different sha256 for it",
                                 n - 1, n + 1));
    }
    return fail(n - 1, fmt::format("edited (or the prev of line {}): its sha256 does not match "
                                   "the prev recorded by line {}",
                                   n, n));
  }
  if (seq > expected) {
    if (next_chained && next_seq < seq) {
      return fail(n, fmt::format("seq {} comes before seq {} on line {}: lines were reordered", seq,
                                 next_seq, n + 1));
    }
    if (!previous_) {
      return fail(n, fmt::format("the chain starts at seq {}: the first {} deleted (the file's "
                                 "head cut)",
                                 seq, plural_lines(seq - 1)));
    }
    return fail(n, fmt::format("seq {} follows seq {}: {} deleted before this one", seq, before_seq,
                               plural_lines(seq - expected)));
  }
  if (seq == before_seq) {
    const std::string two_before_sha =
        before_previous_ ? before_previous_->sha256 : std::string(kFirstPrev);
    if (prev == two_before_sha) {
      return fail(n - 1, fmt::format("inserted: line {} carries the same seq {} and chains from "
                                     "the line before this one",
                                     n, seq));
    }
    return fail(
        n, fmt::format("seq {} repeats the line before's: a line inserted or copied here", seq));
  }
  fail(n, fmt::format("seq {} after seq {}: lines were reordered, or this line copied from "
                      "earlier",
                      seq, before_seq));
}

ChainVerdict verify_chain(std::istream& log, std::optional<std::string> pinned_sha256) {
  ChainVerifier verifier(std::move(pinned_sha256));
  std::string line;
  // getline sets eof when the last line ends without '\n': that line is incomplete.
  while (!verifier.broken() && std::getline(log, line)) verifier.add_line(line, !log.eof());
  const int read_errno = log.bad() ? (errno != 0 ? errno : EIO) : 0;
  ChainVerdict verdict = verifier.finish();
  verdict.read_errno = read_errno;
  if (read_errno != 0) verdict.intact = false;
  return verdict;
}

}  // namespace airlock::audit
