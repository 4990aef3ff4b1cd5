// The proxy's own HTTP answers to the sandbox (403 with the reason, 502, ...): one line of
// reason in X-Airlock-Reason and in the body, and the connection closes after it.
#pragma once

#include <string>

namespace airlock::egress {

std::string http_answer(int status, const std::string& reason);

}  // namespace airlock::egress
