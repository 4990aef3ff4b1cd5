// The one-question DNS queries the sandbox's stub resolver accepts, and the answers it builds
// (RFC 1035 §4.1, RFC 3596 §2 AAAA, RFC 6891 §6 OPT). Anything else is refused unread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "egress/ip_address.h"
#include "wire/parse_status.h"

// Wire parsers are used by the egress proxy only, so they share its namespace.
namespace airlock::egress {

namespace dns_type {
constexpr uint16_t a = 1, aaaa = 28, any = 255, txt = 16;
}  // namespace dns_type

namespace dns_rcode {
constexpr uint8_t noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4, refused = 5;
}  // namespace dns_rcode

struct DnsQuery {
  uint16_t id = 0;
  bool recursion_desired = false;
  // Labels joined with '.', no trailing dot, letters lower-cased; bytes outside [a-z0-9-_] kept
  // as-is (so a label holding '.' reads like two: match names only when name_is_hostname).
  std::string name;
  bool name_is_hostname = false;  // 1+ labels, each 1-63 bytes of [A-Za-z0-9-_], total <= 253
  uint16_t type = 0, klass = 0;
  std::optional<uint16_t> edns_udp_size;  // from an OPT record in the additional section
  // The question name as sent (wire form, original case: DNS 0x20 clients compare it), echoed by
  // build_dns_response; when empty, `name` is encoded instead.
  std::vector<uint8_t> wire_name;
};

struct DnsQueryParse {
  ParseStatus status = ParseStatus::invalid;
  DnsQuery query;
  std::string problem;
  std::optional<uint16_t> id;  // set whenever the 12-byte header was readable, to send a FORMERR
};

// A whole message (UDP payload, or TCP after the 2-byte length): complete or invalid. Refused:
// QR=1, opcode != 0, QDCOUNT != 1, ANCOUNT or NSCOUNT != 0, ARCOUNT > 1 or an additional record
// other than OPT, compression in the question, a label > 63 bytes, a name > 255 wire bytes,
// truncation, trailing bytes.
DnsQueryParse parse_dns_query(std::span<const uint8_t> message);

// A response echoing the question: rcode, and for NOERROR the given addresses as A (for type A,
// IPv4 ones) or AAAA records (type AAAA, IPv6 ones) with `ttl`, class IN, name pointer 0xc00c;
// as many as fit in 512 bytes. QR and RA set, AA clear, RD copied, no OPT. A query whose `name`
// cannot be encoded (and has no wire_name) gets build_dns_error(id, servfail).
std::vector<uint8_t> build_dns_response(const DnsQuery& query, uint8_t rcode,
                                        const std::vector<IpAddress>& addresses, uint32_t ttl);

// Header only, QDCOUNT 0, QR and RA set, for queries that could not be parsed.
std::vector<uint8_t> build_dns_error(uint16_t id, uint8_t rcode);

}  // namespace airlock::egress
