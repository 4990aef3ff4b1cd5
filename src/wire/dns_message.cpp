#include "wire/dns_message.h"

#include <fmt/format.h>

#include <string_view>
#include <utility>

namespace airlock::egress {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxLabel = 63;          // RFC 1035 §2.3.4
constexpr size_t kMaxNameWire = 255;      // RFC 1035 §2.3.4, length bytes included
constexpr size_t kMaxHostnameText = 253;  // 255 wire bytes less the first length and the root
constexpr size_t kMaxUdpResponse = 512;   // RFC 1035 §4.2.1, without EDNS
constexpr uint16_t kFlagResponse = 0x8000;
constexpr uint16_t kFlagRecursionDesired = 0x0100;
constexpr uint16_t kFlagRecursionAvailable = 0x0080;
constexpr uint16_t kTypeOpt = 41;
constexpr uint16_t kClassIn = 1;
constexpr uint16_t kPointerToQuestion = 0xc000 | kHeaderSize;

uint16_t read16(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

void append16(std::vector<uint8_t>* out, uint16_t value) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value & 0xff));
}

void put16(std::vector<uint8_t>* out, size_t offset, uint16_t value) {
  (*out)[offset] = static_cast<uint8_t>(value >> 8);
  (*out)[offset + 1] = static_cast<uint8_t>(value & 0xff);
}

DnsQueryParse invalid(DnsQueryParse parse, std::string problem) {
  parse.status = ParseStatus::invalid;
  parse.problem = std::move(problem);
  return parse;
}

bool is_hostname_byte(uint8_t byte) {
  return (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
         (byte >= '0' && byte <= '9') || byte == '-' || byte == '_';
}

// `name` (dot-separated, no trailing dot; "" is the root) in wire form, or nullopt when a label
// is empty or too long, or the whole is too long.
std::optional<std::vector<uint8_t>> encode_name(std::string_view name) {
  std::vector<uint8_t> wire;
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > kMaxLabel) return std::nullopt;
    wire.push_back(static_cast<uint8_t>(label.size()));
    wire.insert(wire.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
    if (name.empty()) return std::nullopt;  // a trailing dot is an empty last label here
  }
  wire.push_back(0);
  if (wire.size() > kMaxNameWire) return std::nullopt;
  return wire;
}

std::vector<uint8_t> header(uint16_t id, uint16_t flags, uint16_t questions) {
  std::vector<uint8_t> out;
  append16(&out, id);
  append16(&out, flags);
  append16(&out, questions);
  append16(&out, 0);  // ANCOUNT, patched by the caller
  append16(&out, 0);
  append16(&out, 0);
  return out;
}

}  // namespace

DnsQueryParse parse_dns_query(std::span<const uint8_t> message) {
  DnsQueryParse parse;
  if (message.size() < kHeaderSize) return invalid(parse, "DNS message shorter than its header");
  const uint16_t id = read16(message, 0);
  const uint16_t flags = read16(message, 2);
  parse.id = id;
  parse.query.id = id;
  parse.query.recursion_desired = (flags & kFlagRecursionDesired) != 0;
  if ((flags & kFlagResponse) != 0) return invalid(parse, "DNS message is a response (QR=1)");
  const unsigned opcode = (flags >> 11) & 0xf;
  if (opcode != 0) return invalid(parse, fmt::format("DNS opcode {} is not QUERY", opcode));
  const uint16_t questions = read16(message, 4);
  const uint16_t answers = read16(message, 6);
  const uint16_t authorities = read16(message, 8);
  const uint16_t additionals = read16(message, 10);
  if (questions != 1) {
    return invalid(parse, fmt::format("DNS query with {} questions (exactly 1)", questions));
  }
  if (answers != 0 || authorities != 0) {
    return invalid(parse, "DNS query with answer or authority records");
  }
  if (additionals > 1) {
    return invalid(
        parse, fmt::format("DNS query with {} additional records (one OPT at most)", additionals));
  }

  // QNAME: uncompressed labels (a pointer in a question can only point backwards into the
  // header, and no client needs one).
  const size_t name_start = kHeaderSize;
  size_t offset = name_start;
  size_t labels = 0;
  bool hostname = true;
  std::string& name = parse.query.name;
  while (true) {
    if (offset >= message.size()) return invalid(parse, "DNS question truncated in its name");
    const size_t length = message[offset++];
    if (length == 0) break;
    if ((length & 0xc0) == 0xc0) return invalid(parse, "compression pointer in the DNS question");
    if (length > kMaxLabel) {
      return invalid(parse, fmt::format("DNS label of {} bytes (at most {})", length, kMaxLabel));
    }
    if (offset + length > message.size())
      return invalid(parse, "DNS question truncated in its name");
    // This label and at least the root label after it.
    if (offset + length + 1 - name_start > kMaxNameWire) {
      return invalid(parse, fmt::format("DNS name longer than {} bytes", kMaxNameWire));
    }
    if (labels++ > 0) name += '.';
    for (uint8_t byte : message.subspan(offset, length)) {
      hostname = hostname && is_hostname_byte(byte);
      name += (byte >= 'A' && byte <= 'Z') ? static_cast<char>(byte - 'A' + 'a')
                                           : static_cast<char>(byte);
    }
    offset += length;
  }
  parse.query.wire_name.assign(message.begin() + static_cast<std::ptrdiff_t>(name_start),
                               message.begin() + static_cast<std::ptrdiff_t>(offset));
  parse.query.name_is_hostname = hostname && labels > 0 && name.size() <= kMaxHostnameText;
  if (message.size() - offset < 4) return invalid(parse, "DNS question truncated in its type");
  parse.query.type = read16(message, offset);
  parse.query.klass = read16(message, offset + 2);
  offset += 4;

  if (additionals == 1) {
    // RFC 6891 §6.1.2: OPT is NAME=root TYPE=41 CLASS=UDP size TTL=flags RDLENGTH RDATA.
    if (offset >= message.size()) return invalid(parse, "DNS additional record truncated");
    if (message[offset] != 0)
      return invalid(parse, "DNS additional record is not OPT (its name is not the root)");
    ++offset;
    if (message.size() - offset < 10) return invalid(parse, "DNS additional record truncated");
    const uint16_t type = read16(message, offset);
    if (type != kTypeOpt) {
      return invalid(parse, fmt::format("DNS additional record of type {} (only OPT)", type));
    }
    const uint16_t udp_size = read16(message, offset + 2);
    const size_t data_length = read16(message, offset + 8);
    offset += 10;
    if (message.size() - offset < data_length) return invalid(parse, "DNS OPT record truncated");
    size_t option = offset;
    const size_t data_end = offset + data_length;
    while (option < data_end) {
      if (data_end - option < 4) return invalid(parse, "DNS OPT option truncated");
      const size_t option_length = read16(message, option + 2);
      option += 4;
      if (data_end - option < option_length)
        return invalid(parse, "DNS OPT option overruns its record");
      option += option_length;
    }
    offset = data_end;
    parse.query.edns_udp_size = udp_size;
  }
  if (offset != message.size()) {
    return invalid(parse, fmt::format("{} bytes after the DNS query", message.size() - offset));
  }
  parse.status = ParseStatus::complete;
  return parse;
}

std::vector<uint8_t> build_dns_response(const DnsQuery& query, uint8_t rcode,
                                        const std::vector<IpAddress>& addresses, uint32_t ttl) {
  std::vector<uint8_t> question = query.wire_name;
  if (question.empty()) {
    std::optional<std::vector<uint8_t>> encoded = encode_name(query.name);
    if (!encoded) return build_dns_error(query.id, dns_rcode::servfail);
    question = std::move(*encoded);
  }
  const auto flags =
      static_cast<uint16_t>(kFlagResponse | kFlagRecursionAvailable |
                            (query.recursion_desired ? kFlagRecursionDesired : 0) | (rcode & 0xf));
  std::vector<uint8_t> out = header(query.id, flags, 1);
  out.insert(out.end(), question.begin(), question.end());
  append16(&out, query.type);
  append16(&out, query.klass);
  if (rcode != dns_rcode::noerror) return out;

  uint16_t count = 0;
  for (const IpAddress& address : addresses) {
    const bool wanted = (query.type == dns_type::a && address.is_v4()) ||
                        (query.type == dns_type::aaaa && !address.is_v4());
    if (!wanted) continue;
    if (out.size() + 12 + address.size() > kMaxUdpResponse) break;
    append16(&out, kPointerToQuestion);
    append16(&out, query.type);
    append16(&out, kClassIn);
    append16(&out, static_cast<uint16_t>(ttl >> 16));
    append16(&out, static_cast<uint16_t>(ttl & 0xffff));
    append16(&out, static_cast<uint16_t>(address.size()));
    out.insert(out.end(), address.bytes.begin(),
               address.bytes.begin() + static_cast<std::ptrdiff_t>(address.size()));
    ++count;
  }
  put16(&out, 6, count);
  return out;
}

std::vector<uint8_t> build_dns_error(uint16_t id, uint8_t rcode) {
  return header(id, static_cast<uint16_t>(kFlagResponse | kFlagRecursionAvailable | (rcode & 0xf)),
                0);
}

}  // namespace airlock::egress
