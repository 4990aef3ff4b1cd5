// The three outcomes of every parser of untrusted client bytes in the egress proxy: a whole
// message, a prefix that may still become one, or bytes that never will.
#pragma once

namespace airlock::egress {

enum class ParseStatus { complete, need_more, invalid };

}  // namespace airlock::egress
