// `airlock observe` sees every program started inside the sandbox without ptrace: the sandbox's
// init installs a seccomp filter that turns execve/execveat into user notifications
// (seccomp_unotify(2)) and hands the listener to the supervisor, which records each call and
// lets it continue unchanged (observe/exec_watcher.h). It works unprivileged: the listener
// belongs to whoever holds it, and reading the caller's arguments from /proc/PID/mem needs only
// what the supervisor already has over its own sandbox. Cost: one round trip to the supervisor
// per exec; every other system call is untouched.
#pragma once

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::sandbox {

// Child side, between clone and exec: allocates nothing. Returns the listener, or -1 (errno).
// Needs no_new_privs. Filters only ever add up: the default filter's refusals still win.
int install_exec_listener();
// Child side: sends `listener` over the sync socket; false (errno) if it could not.
bool send_exec_listener(int sync_socket, int listener);

// Supervisor side: the listener the child sent, or why there is none (the child died first).
Result<UniqueFd> receive_exec_listener(int sync_socket);

}  // namespace airlock::sandbox
