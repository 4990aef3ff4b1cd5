#include "sandbox/child_report.h"

namespace airlock::sandbox {

const char* describe(Step step) {
  switch (step) {
    case Step::none:
      return "start the sandbox";
    case Step::wait_for_supervisor:
      return "wait for the supervisor";
    case Step::close_inherited_fds:
      return "close inherited file descriptors";
    case Step::own_identity_maps:
      return "map the caller's uid and gid into the sandbox's user namespace";
    case Step::mount_private:
      return "make the mount namespace private";
    case Step::staging_root:
      return "mount the staging tmpfs";
    case Step::first_pivot:
      return "pivot into the staging root";
    case Step::new_root:
      return "mount the new root";
    case Step::proc:
      return "mount a fresh /proc";
    case Step::dev:
      return "build the minimal /dev";
    case Step::tmpfs:
      return "mount a private tmpfs on";
    case Step::bind:
      return "bind-mount";
    case Step::symlink:
      return "recreate the symlink";
    case Step::workspace:
      return "bind the workspace";
    case Step::workspace_idmap:
      return "map the workspace owner to the sandbox user (idmapped mount) for";
    case Step::protect:
      return "protect (read-only)";
    case Step::pin:
      return "pin the directory";
    case Step::hide:
      return "hide";
    case Step::file:
      return "write generated file";
    case Step::seal_root:
      return "make the new root read-only";
    case Step::pivot_root:
      return "pivot_root into the sandbox";
    case Step::working_directory:
      return "enter the working directory";
    case Step::hostname:
      return "set the hostname";
    case Step::loopback:
      return "bring up the loopback interface";
    case Step::cgroup_namespace:
      return "enter a cgroup namespace";
    case Step::user_namespace:
      return "enter the final user namespace";
    case Step::identity:
      return "switch to the sandbox user";
    case Step::session:
      return "start a new session";
    case Step::rlimits:
      return "set resource limits";
    case Step::landlock:
      return "apply Landlock rules";
    case Step::capabilities:
      return "drop all capabilities";
    case Step::no_new_privs:
      return "set no_new_privs";
    case Step::parent_death_signal:
      return "tie the sandbox's life to the supervisor";
    case Step::seccomp:
      return "install the seccomp filter";
    case Step::start_agent:
      return "start the command";
    case Step::exec:
      return "execute the command";
  }
  return "set up the sandbox";
}

}  // namespace airlock::sandbox
