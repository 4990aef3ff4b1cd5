// libFuzzer target for the SOCKS5 greeting and request readers: any bytes come back complete,
// need_more or invalid with a reply code, never a crash, hang or leak. Invariants checked on top:
// a complete message reads the same from exactly its own bytes, and one byte less needs more.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "wire/socks5_message.h"

namespace {

using airlock::egress::ParseStatus;
using airlock::egress::Socks5AddressType;

[[noreturn]] void invariant_broken(const char* what, size_t size) {
  (void)std::fprintf(stderr, "socks5_message_fuzzer: %s (input of %zu bytes)\n", what, size);
  __builtin_trap();
}

bool one_line(const std::string& problem) {
  return !problem.empty() && problem.find('\n') == std::string::npos;
}

void check_greeting(std::span<const uint8_t> bytes) {
  const auto parse = airlock::egress::parse_socks5_greeting(bytes);
  if (parse.status == ParseStatus::invalid && !one_line(parse.problem)) {
    invariant_broken("greeting invalid without a problem", bytes.size());
  }
  if (parse.status != ParseStatus::complete) return;
  const size_t length = parse.greeting.length;
  if (length < 3 || length > bytes.size()) invariant_broken("greeting length", bytes.size());
  const auto exact = airlock::egress::parse_socks5_greeting(bytes.first(length));
  if (exact.status != ParseStatus::complete ||
      exact.greeting.offers_no_auth != parse.greeting.offers_no_auth) {
    invariant_broken("greeting reads differently from its own bytes", bytes.size());
  }
  if (airlock::egress::parse_socks5_greeting(bytes.first(length - 1)).status !=
      ParseStatus::need_more) {
    invariant_broken("greeting less one byte does not need more", bytes.size());
  }
}

void check_request(std::span<const uint8_t> bytes) {
  const auto parse = airlock::egress::parse_socks5_request(bytes);
  if (parse.status == ParseStatus::invalid) {
    if (!one_line(parse.problem) || parse.reply_code == 0) {
      invariant_broken("request invalid without a problem or reply code", bytes.size());
    }
    return;
  }
  if (parse.status != ParseStatus::complete) return;
  const auto& request = parse.request;
  const size_t expected_length = request.address_type == Socks5AddressType::ipv4 ? 10
                                 : request.address_type == Socks5AddressType::ipv6
                                     ? 22
                                     : 7 + request.domain.size();
  if (request.length != expected_length || request.length > bytes.size()) {
    invariant_broken("request length", bytes.size());
  }
  if ((request.address_type == Socks5AddressType::domain) == request.address.has_value()) {
    invariant_broken("address present iff not a domain", bytes.size());
  }
  if (request.address_type == Socks5AddressType::domain) {
    if (request.domain.empty()) invariant_broken("empty domain", bytes.size());
    for (char c : request.domain) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        invariant_broken("control byte in domain", bytes.size());
      }
    }
  }
  const auto exact = airlock::egress::parse_socks5_request(bytes.first(request.length));
  if (exact.status != ParseStatus::complete || exact.request.domain != request.domain ||
      exact.request.port != request.port || exact.request.command != request.command ||
      exact.request.address != request.address) {
    invariant_broken("request reads differently from its own bytes", bytes.size());
  }
  if (airlock::egress::parse_socks5_request(bytes.first(request.length - 1)).status !=
      ParseStatus::need_more) {
    invariant_broken("request less one byte does not need more", bytes.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  check_greeting(bytes);
  check_request(bytes);
  // A client sends both at once before reading the method reply; the request follows the greeting.
  const auto greeting = airlock::egress::parse_socks5_greeting(bytes);
  if (greeting.status == ParseStatus::complete)
    check_request(bytes.subspan(greeting.greeting.length));
  return 0;
}
