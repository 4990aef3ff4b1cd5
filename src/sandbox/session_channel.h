// The messages between the supervisor and a session's init, on the sync socket (SOCK_SEQPACKET:
// one message per send, never split or merged). A session's init starts no agent: it waits for
// requests and forks each command itself, so an exec'd command inherits exactly the init's
// confinement (namespaces, mount view, Landlock domain, seccomp filter, capabilities,
// no_new_privs, cgroup, rlimits, user) and nothing is entered or re-applied from outside.
// Fixed-size records and one flat string block: the init parses them without allocating.
#pragma once

#include <cstddef>
#include <cstdint>

namespace airlock::sandbox {

enum class SessionRequestKind : uint32_t {
  exec = 1,       // fork `argv` with `environment` in `cwd`; three descriptors attached (0, 1, 2)
  signal = 2,     // send `signal` to the process group of request `request_id`
  terminate = 3,  // send `signal` to every process in the sandbox but the init (session stop)
};

// Followed, for exec, by `strings_size` bytes: cwd, then `argc` arguments, then `envc`
// variables, each NUL-terminated.
struct SessionRequest {
  SessionRequestKind kind;
  uint32_t request_id;
  int32_t signal;
  uint32_t argc;
  uint32_t envc;
  uint32_t strings_size;
};

enum class SessionEventKind : uint32_t {
  started = 1,  // value: the command's pid inside the sandbox
  failed = 2,   // value: errno (chdir or exec failed; nothing runs)
  exited = 3,   // value: the wait status
};

struct SessionEvent {
  SessionEventKind kind;
  uint32_t request_id;
  int32_t value;
  int32_t step;  // failed: 1 chdir, 2 exec, 3 too many commands at once, 4 a malformed request
};

inline constexpr size_t kSessionStringsMax = size_t{96} * 1024;  // argv + environment + cwd
inline constexpr size_t kSessionVectorMax = 2048;                // arguments + variables
inline constexpr size_t kSessionCommandsMax = 64;                // commands running at once

}  // namespace airlock::sandbox
