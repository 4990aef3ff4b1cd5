#include "wire/socks5_message.h"

#include <fmt/format.h>

#include <cstring>
#include <utility>

namespace airlock::egress {
namespace {

constexpr uint8_t kVersion = 5;

Socks5GreetingParse invalid_greeting(std::string problem) {
  Socks5GreetingParse parse;
  parse.status = ParseStatus::invalid;
  parse.problem = std::move(problem);
  return parse;
}

Socks5RequestParse invalid_request(uint8_t reply_code, std::string problem) {
  Socks5RequestParse parse;
  parse.status = ParseStatus::invalid;
  parse.reply_code = reply_code;
  parse.problem = std::move(problem);
  return parse;
}

std::string version_problem(uint8_t version) {
  if (version == 4) return "SOCKS4 is not supported (SOCKS5 only)";
  return fmt::format("not SOCKS5 (version byte {})", version);
}

}  // namespace

Socks5GreetingParse parse_socks5_greeting(std::span<const uint8_t> data) {
  if (data.empty()) return {};
  if (data[0] != kVersion) return invalid_greeting(version_problem(data[0]));
  if (data.size() < 2) return {};
  const size_t methods = data[1];
  if (methods == 0) return invalid_greeting("SOCKS5 greeting offers no method");
  if (data.size() < 2 + methods) return {};
  Socks5GreetingParse parse;
  parse.status = ParseStatus::complete;
  parse.greeting.length = 2 + methods;
  for (uint8_t method : data.subspan(2, methods)) {
    parse.greeting.offers_no_auth = parse.greeting.offers_no_auth || method == 0;
  }
  return parse;
}

Socks5RequestParse parse_socks5_request(std::span<const uint8_t> data) {
  if (data.empty()) return {};
  if (data[0] != kVersion) {
    return invalid_request(socks5_reply::general_failure, version_problem(data[0]));
  }
  if (data.size() >= 3 && data[2] != 0) {
    return invalid_request(socks5_reply::general_failure, "SOCKS5 request with RSV not 0");
  }
  if (data.size() < 4) return {};

  Socks5Request request;
  request.command = data[1];
  size_t address_end = 0;
  switch (data[3]) {
    case static_cast<uint8_t>(Socks5AddressType::ipv4):
      request.address_type = Socks5AddressType::ipv4;
      address_end = 4 + 4;
      break;
    case static_cast<uint8_t>(Socks5AddressType::ipv6):
      request.address_type = Socks5AddressType::ipv6;
      address_end = 4 + 16;
      break;
    case static_cast<uint8_t>(Socks5AddressType::domain):
      request.address_type = Socks5AddressType::domain;
      if (data.size() < 5) return {};
      if (data[4] == 0) {
        return invalid_request(socks5_reply::general_failure,
                               "SOCKS5 request with an empty domain");
      }
      address_end = 5 + size_t{data[4]};
      break;
    default:
      return invalid_request(socks5_reply::address_type_not_supported,
                             fmt::format("SOCKS5 address type {} is not supported", data[3]));
  }
  if (data.size() < address_end + 2) return {};

  if (request.address_type == Socks5AddressType::domain) {
    const std::span<const uint8_t> domain = data.subspan(5, address_end - 5);
    for (uint8_t byte : domain) {
      // NUL ends the name for C resolvers, other control bytes split log lines.
      if (byte < 0x20 || byte == 0x7f) {
        return invalid_request(socks5_reply::general_failure,
                               fmt::format("SOCKS5 domain contains byte 0x{:02x}", byte));
      }
    }
    request.domain.assign(domain.begin(), domain.end());
  } else if (request.address_type == Socks5AddressType::ipv4) {
    in_addr address{};
    std::memcpy(&address.s_addr, &data[4], 4);
    request.address = IpAddress::v4(address);
  } else {
    in6_addr address{};
    std::memcpy(address.s6_addr, &data[4], 16);
    request.address = IpAddress::v6(address);
  }
  request.port = static_cast<uint16_t>((data[address_end] << 8) | data[address_end + 1]);
  request.length = address_end + 2;

  Socks5RequestParse parse;
  parse.status = ParseStatus::complete;
  parse.request = std::move(request);
  return parse;
}

std::array<uint8_t, 10> socks5_reply_bytes(uint8_t code) {
  return {kVersion, code, 0, static_cast<uint8_t>(Socks5AddressType::ipv4), 0, 0, 0, 0, 0, 0};
}

}  // namespace airlock::egress
