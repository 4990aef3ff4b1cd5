// The three outcomes of every parser of untrusted client bytes in the egress proxy: a whole
// message, a prefix that may still become one, or bytes that never will.
#pragma once

// Wire parsers are used by the egress proxy only, so they share its namespace.
namespace airlock::egress {

enum class ParseStatus { complete, need_more, invalid };

}  // namespace airlock::egress
