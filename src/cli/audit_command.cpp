// `airlock audit verify FILE`: checks the log's hash chain. Exit 0 intact (and prints the last
// line's sha256, the value to ship elsewhere), 1 broken (FILE:LINE: what broke), 2 unreadable.
#include <sys/stat.h>

#include <cerrno>
#include <fstream>

#include <fmt/format.h>

#include "audit/chain_verifier.h"
#include "cli/commands.h"
#include "common/errno_text.h"

namespace airlock::cli {
namespace {

constexpr int kExitChainBroken = 1;
constexpr int kExitUnreadable = 2;

void print_intact(const std::string& file, const audit::ChainVerdict& verdict) {
  if (verdict.lines == 0) {
    fmt::print("{}: ok, 0 events\n", file);
    return;
  }
  fmt::print("{}: ok, {} event{}, seq 1..{}, last sha256 {}\n", file, verdict.lines,
             verdict.lines == 1 ? "" : "s", verdict.last_seq, verdict.last_sha256);
}

}  // namespace

int audit_verify_command(const AuditVerifyArguments& arguments) {
  const std::string& file = arguments.file;
  if (arguments.expect_last &&
      (arguments.expect_last->size() != 64 ||
       arguments.expect_last->find_first_not_of("0123456789abcdef") != std::string::npos)) {
    fmt::print(stderr, "airlock: --expect-last '{}' is not a sha256 (64 lower-case hex digits)\n",
               *arguments.expect_last);
    return kExitUnreadable;
  }
  // A directory opens as a stream that reads nothing: it must not pass as an empty log.
  struct stat status {};
  if (::stat(file.c_str(), &status) != 0) {
    fmt::print(stderr, "{}: cannot read the audit log: {}\n", file, errno_text(errno));
    return kExitUnreadable;
  }
  if (S_ISDIR(status.st_mode)) {
    fmt::print(stderr, "{}: cannot read the audit log: it is a directory\n", file);
    return kExitUnreadable;
  }
  std::ifstream log(file, std::ios::binary);
  if (!log) {
    fmt::print(stderr, "{}: cannot read the audit log: {}\n", file, errno_text(errno));
    return kExitUnreadable;
  }
  const audit::ChainVerdict verdict = audit::verify_chain(log, arguments.expect_last);
  if (verdict.read_errno != 0) {
    fmt::print(stderr, "{}:{}: cannot read the audit log: {}\n", file, verdict.lines + 1,
               errno_text(verdict.read_errno));
    return kExitUnreadable;
  }
  if (verdict.intact) {
    print_intact(file, verdict);
    return 0;
  }
  if (verdict.broken_line == 0) {
    fmt::print("{}: {}\n", file, verdict.problem);
  } else {
    fmt::print("{}:{}: {}\n", file, verdict.broken_line, verdict.problem);
  }
  return kExitChainBroken;
}

}  // namespace airlock::cli
