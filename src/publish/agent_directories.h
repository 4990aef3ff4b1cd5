// The private host directories of publish entries without a port (sandbox::PublishDirectory):
// made before the sandbox starts (0700, owned by the sandbox's user so the agent can create its
// socket there) and removed with everything in them once the sandbox has ended, when nothing
// inside can still add to them.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/launch_plan.h"

namespace airlock::publish {

class AgentDirectories {
 public:
  static Result<AgentDirectories> make(const std::vector<sandbox::PublishDirectory>& directories,
                                       bool started_by_root, uid_t sandbox_uid, gid_t sandbox_gid);
  AgentDirectories() = default;
  AgentDirectories(AgentDirectories&& other) noexcept : made_(std::move(other.made_)) {
    other.made_.clear();
  }
  AgentDirectories& operator=(AgentDirectories&&) = delete;
  AgentDirectories(const AgentDirectories&) = delete;
  ~AgentDirectories();

 private:
  explicit AgentDirectories(std::vector<std::string> made) : made_(std::move(made)) {}
  std::vector<std::string> made_;
};

}  // namespace airlock::publish
