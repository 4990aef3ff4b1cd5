// The default seccomp filter, compiled when airlock is built: build_default_filter() takes no
// input, so its program is a constant, and compiling it with libseccomp at every start cost about
// 50 page faults and a millisecond (bench/startup.sh). A unit test checks that this copy equals
// what build_default_filter() compiles now.
#pragma once

#include <linux/filter.h>

#include <span>

namespace airlock::seccomp {

std::span<const sock_filter> compiled_default_filter();

}  // namespace airlock::seccomp
