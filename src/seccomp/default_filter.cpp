#include "seccomp/default_filter.h"

namespace airlock::seccomp {
namespace {

// Written at build time by airlock-default-filter-gen (src/seccomp/default_filter_gen.cpp).
constexpr sock_filter kDefaultFilter[] = {
#include "default_filter.inc"
};

}  // namespace

std::span<const sock_filter> compiled_default_filter() {
  return kDefaultFilter;
}

}  // namespace airlock::seccomp
