// The host side of `airlock exec`: asks a session's supervisor (over its control socket) to run a
// command inside, with three pipes of ours as its stdin, stdout and stderr. Only bytes cross:
// the command never holds a descriptor of the caller's other than those pipes (no terminal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace airlock::control {

struct ExecRequest {
  std::string session;                   // the session's name
  std::vector<std::string> argv;         // argv[0] is searched in the session's PATH
  std::vector<std::string> environment;  // K=V, added to (or replacing in) the session's own
  std::optional<std::string> cwd;        // inside the sandbox; default: the session's directory
  std::optional<uint64_t> timeout_ms;    // then SIGKILL to the command's process group
};

struct ExecOutcome {
  int exit_code = 0;          // the command's, or 128+N for signal N (and 137 after a timeout)
  std::optional<int> signal;  // set when a signal ended it
  bool timed_out = false;
  uint64_t duration_ms = 0;
  std::string stdout_text;  // captured only by exec_captured()
  std::string stderr_text;
  bool truncated = false;  // a stream went past the cap; the rest was read and dropped
};

// The default cap per stream for captured output (`airlock exec --json`, the MCP server's run).
inline constexpr size_t kDefaultOutputCap = size_t{1024} * 1024;

// Runs the command with its output captured (up to `output_cap` bytes per stream) and `input`
// as its whole stdin. An Error means it did not run: no such session, refused, or the command
// could not be started (then the message says why, e.g. "cannot execute foo: No such file or
// directory", and `exit_code_hint` is 127 or 126 as a shell would give).
struct ExecFailure {
  std::string message;
  int exit_code_hint = 125;
};
struct CapturedResult {
  std::optional<ExecOutcome> outcome;
  std::optional<ExecFailure> failure;
};
CapturedResult exec_captured(const ExecRequest& request, const std::string& input,
                             size_t output_cap = kDefaultOutputCap);

// Runs the command with our own stdin, stdout and stderr relayed through pipes, forwarding
// SIGINT, SIGTERM and SIGHUP to it. Returns the exit status to pass through.
CapturedResult exec_streaming(const ExecRequest& request);

}  // namespace airlock::control
