// The classes the default seccomp filter's refused syscalls fall into, as the filter groups
// them (seccomp/filter_builder.cpp), with what each class protects.
#pragma once

#include <string>
#include <vector>

#include "explain/capability_table.h"

namespace airlock::explain {

struct SyscallClass {
  std::string description;
  std::vector<std::string> names;           // syscalls refused outright
  std::vector<std::string> argument_rules;  // refusals that depend on arguments
  std::vector<Layer> layers;
};

const std::vector<SyscallClass>& syscall_classes();

}  // namespace airlock::explain
