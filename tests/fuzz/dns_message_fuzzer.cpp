// libFuzzer target for the DNS query reader and the response builder: any message comes back
// complete or invalid, never a crash, hang or leak. Invariants checked on top: the header id is
// known whenever 12 bytes are there, and a response to an accepted query echoes its question
// byte for byte and fits in 512 bytes.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "wire/dns_message.h"

namespace {

using airlock::egress::IpAddress;
using airlock::egress::ParseStatus;

[[noreturn]] void invariant_broken(const char* what, size_t size) {
  (void)std::fprintf(stderr, "dns_message_fuzzer: %s (input of %zu bytes)\n", what, size);
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> message(data, size);
  const airlock::egress::DnsQueryParse parse = airlock::egress::parse_dns_query(message);
  if (parse.id.has_value() != (size >= 12)) invariant_broken("id known iff header readable", size);
  if (parse.status == ParseStatus::need_more)
    invariant_broken("need_more on a whole message", size);
  if (parse.status == ParseStatus::invalid) {
    if (parse.problem.empty() || parse.problem.find('\n') != std::string::npos) {
      invariant_broken("invalid without a one-line problem", size);
    }
    if (parse.id && airlock::egress::build_dns_error(*parse.id, 1).size() != 12) {
      invariant_broken("error response is not a bare header", size);
    }
    return 0;
  }

  const airlock::egress::DnsQuery& query = parse.query;
  if (query.name_is_hostname) {
    if (query.name.empty() || query.name.size() > 253) invariant_broken("hostname length", size);
    for (char c : query.name) {
      const bool allowed =
          (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      if (!allowed) invariant_broken("hostname byte", size);
    }
  }
  for (char c : query.name) {
    if (c >= 'A' && c <= 'Z') invariant_broken("upper-case letter in name", size);
  }

  in_addr v4{};
  v4.s_addr = htonl(0xc0000207);
  in6_addr v6{};
  v6.s6_addr[0] = 0x20;
  v6.s6_addr[15] = 1;
  const std::vector<IpAddress> addresses = {IpAddress::v4(v4), IpAddress::v6(v6)};
  for (uint8_t rcode : {uint8_t{0}, uint8_t{3}}) {
    const std::vector<uint8_t> response =
        airlock::egress::build_dns_response(query, rcode, addresses, 60);
    const size_t question_end = 12 + query.wire_name.size() + 4;
    if (response.size() < question_end || response.size() > 512) {
      invariant_broken("response size", size);
    }
    if (std::memcmp(response.data(), data, 2) != 0 || (response[2] & 0x80) == 0 ||
        (response[3] & 0x0f) != rcode) {
      invariant_broken("response header", size);
    }
    if (std::memcmp(response.data() + 12, data + 12, question_end - 12) != 0) {
      invariant_broken("response does not echo the question", size);
    }
  }
  return 0;
}
