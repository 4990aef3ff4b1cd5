// The stand-in the sandbox gets instead of a credential's real value: random per run and
// unguessable, and shaped like the real value so that clients which check the shape accept it.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace airlock::credentials {

// Real values shorter than this are refused: their placeholder would be guessable.
inline constexpr size_t kMinimumSecretLength = 20;

// Same length as `real` (so a replacement never changes Content-Length or chunk sizes), the same
// prefix up to and including the last '-' or '_' among its first 16 characters ("sk-ant-api03-",
// "sk-proj-", "ghp_"), then random letters and digits: at least 16 of them (95 bits and more).
Result<std::string> make_placeholder(std::string_view real);

}  // namespace airlock::credentials
