// The supervisor's side of observe's exec recording (sandbox/exec_listener.h says how it works):
// a thread that answers every execve/execveat notification of the sandbox with "continue" after
// writing a `process.exec` audit event: the program's path and argv as the caller passed them,
// the caller's own image and its parent. Calls for a path that does not exist in the caller's
// view (a shell or execvp trying each PATH directory) fail anyway and are not recorded; nor is
// a call whose arguments cannot be read (exec_watcher.cpp says when).
#pragma once

#include <sys/types.h>

#include <memory>
#include <thread>

#include "audit/audit_log.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::observe {

class ExecWatcher {
 public:
  static Result<std::unique_ptr<ExecWatcher>> start(UniqueFd listener,
                                                    const audit::AuditLog& audit);
  // Stops the thread; a call still waiting is answered by the kernel with ENOSYS once the
  // listener closes, which only happens when the sandbox has already ended.
  ~ExecWatcher();
  ExecWatcher(const ExecWatcher&) = delete;
  ExecWatcher& operator=(const ExecWatcher&) = delete;

 private:
  ExecWatcher(UniqueFd listener, UniqueFd stop, const audit::AuditLog& audit);
  void run();
  void answer_one();

  UniqueFd listener_;
  UniqueFd stop_;  // eventfd: written once to end run()
  const audit::AuditLog& audit_;
  std::thread thread_;
};

}  // namespace airlock::observe
