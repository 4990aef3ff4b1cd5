// Built-in profiles, embedded in the binary from profiles/*.yaml at build time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace airlock::policy {

std::optional<std::string_view> builtin_profile_text(std::string_view name);
std::vector<std::string> builtin_profile_names();

}  // namespace airlock::policy
