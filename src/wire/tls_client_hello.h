// The server_name a TLS client asks for, read from the first bytes of its stream without
// terminating TLS (RFC 8446 §5.1 records, §4.1.2 ClientHello; RFC 6066 §3 server_name).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "wire/parse_status.h"

// Wire parsers are used by the egress proxy only, so they share its namespace.
namespace airlock::egress {

struct ClientHelloParse {
  ParseStatus status = ParseStatus::need_more;
  // The host_name entry of server_name, bytes as sent (not normalised), when present.
  std::optional<std::string> server_name;
  std::string problem;  // why it is invalid (one line), when status == invalid
};

// `data` is the start of the client's byte stream. The ClientHello may be split over several
// handshake records (type 22); any other record type before it is complete, an SSLv2-style or
// non-handshake first byte, or a hello claiming more than 65536 bytes is invalid. A ClientHello
// without server_name is complete with server_name == nullopt. Bytes after the record that
// completes the hello are not looked at.
ClientHelloParse parse_client_hello(std::span<const uint8_t> data);

}  // namespace airlock::egress
