// OpenSSL reports errors on a per-thread queue; this turns the queue into one line (and empties
// it, so an old error never shows up in a later message).
#pragma once

#include <string>

namespace airlock::intercept {

std::string openssl_error_text(const std::string& what);

}  // namespace airlock::intercept
