// Which of the caller's environment variables look like secrets, and so stay outside the
// sandbox unless the policy passes them (process.env.pass) or makes them credentials.
#pragma once

#include <string_view>

namespace airlock::credentials {

// NAME ends in _KEY, _TOKEN, _SECRET, _PASSWORD, _PASSWD, _PASS, _CREDENTIALS, _AUTH, _PAT, _COOKIE
// or _SESSION; contains PASSWORD, SECRET or PRIVATE_KEY; starts with AWS_; or is one of the
// documented names below (README "Credentials"). Case-insensitive.
bool looks_like_secret(std::string_view name);

}  // namespace airlock::credentials
