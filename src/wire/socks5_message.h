// The two messages a SOCKS5 client sends before its tunnel: the method greeting and the
// request (RFC 1928 §3, §4), and the fixed replies the proxy answers with (§5, §6).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "egress/ip_address.h"
#include "wire/parse_status.h"

// Wire parsers are used by the egress proxy only, so they share its namespace.
namespace airlock::egress {

struct Socks5Greeting {
  bool offers_no_auth = false;  // METHODS contains X'00'
  size_t length = 0;            // bytes of the greeting
};

struct Socks5GreetingParse {
  ParseStatus status = ParseStatus::need_more;
  Socks5Greeting greeting;
  std::string problem;  // one line, when invalid
};

// VER=5 NMETHODS(1-255) METHODS. Bytes after the greeting are not looked at.
Socks5GreetingParse parse_socks5_greeting(std::span<const uint8_t> data);

enum class Socks5AddressType : uint8_t { ipv4 = 1, domain = 3, ipv6 = 4 };

struct Socks5Request {
  uint8_t command = 0;  // 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE, or any other value as sent
  Socks5AddressType address_type{};
  std::string domain;                // address_type == domain: bytes as sent (not normalised)
  std::optional<IpAddress> address;  // address_type == ipv4 or ipv6
  uint16_t port = 0;
  size_t length = 0;  // bytes of the request
};

struct Socks5RequestParse {
  ParseStatus status = ParseStatus::need_more;
  Socks5Request request;
  uint8_t reply_code = 0;  // when invalid: what to answer (a socks5_reply code)
  std::string problem;     // one line, when invalid
};

// VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT. Every command is returned (the proxy answers
// command_not_supported to all but CONNECT); an unknown ATYP, or a domain that is empty or holds
// a control byte, is invalid. Bytes after the request are not looked at.
Socks5RequestParse parse_socks5_request(std::span<const uint8_t> data);

namespace socks5_reply {
constexpr uint8_t succeeded = 0, general_failure = 1, not_allowed = 2, network_unreachable = 3,
                  host_unreachable = 4, connection_refused = 5, ttl_expired = 6,
                  command_not_supported = 7, address_type_not_supported = 8;
}  // namespace socks5_reply

// VER=5 REP=code RSV=0 ATYP=1 BND.ADDR=0.0.0.0 BND.PORT=0.
std::array<uint8_t, 10> socks5_reply_bytes(uint8_t code);

constexpr std::array<uint8_t, 2> kSocks5ChooseNoAuth{5, 0}, kSocks5NoAcceptableMethod{5, 0xff};

}  // namespace airlock::egress
