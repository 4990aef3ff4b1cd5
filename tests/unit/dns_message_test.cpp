// DNS queries from the sandbox's stub resolver and the answers built for them (RFC 1035,
// RFC 3596, RFC 6891): one plain question or nothing, so a name can only be asked for in the one
// way the policy checks (THREATS.md "Against the egress proxy" 5).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wire/dns_message.h"

namespace airlock::egress {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

// A real query: what DiG 9.18.49 sent for
//   dig @127.0.0.1 -p 53530 api.example.test A
// to a Python UDP socket on loopback that saved the datagram. RD and AD set, EDNS0 with a UDP
// size of 1232 and a COOKIE option.
const Bytes kDigQuery = {
    0x7d, 0x93, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x61, 0x70,
    0x69, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,
    0x00, 0x0a, 0x00, 0x08, 0x5c, 0x2f, 0xbe, 0x1e, 0x58, 0x0b, 0xbd, 0x8f,
};
constexpr size_t kQuestionEnd = 12 + 18 + 4;  // header, api.example.test, type and class

DnsQueryParse parse(const Bytes& message) {
  return parse_dns_query(message);
}

std::string expect_invalid(const Bytes& message) {
  DnsQueryParse parsed = parse(message);
  EXPECT_EQ(parsed.status, ParseStatus::invalid);
  EXPECT_FALSE(parsed.problem.empty());
  EXPECT_EQ(parsed.problem.find('\n'), std::string::npos);
  return parsed.problem;
}

void append16(Bytes* out, uint16_t value) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value & 0xff));
}

// A query with the given header fields and raw question name (wire form).
Bytes query(const Bytes& name, uint16_t type = dns_type::a, uint16_t flags = 0x0100,
            uint16_t qdcount = 1, uint16_t ancount = 0, uint16_t nscount = 0,
            uint16_t arcount = 0) {
  Bytes out;
  append16(&out, 0x1234);
  append16(&out, flags);
  append16(&out, qdcount);
  append16(&out, ancount);
  append16(&out, nscount);
  append16(&out, arcount);
  out.insert(out.end(), name.begin(), name.end());
  append16(&out, type);
  append16(&out, 1);
  return out;
}

// Wire form of dot-separated labels (test input only: no checks).
Bytes wire(const std::vector<std::string>& labels) {
  Bytes out;
  for (const std::string& label : labels) {
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.push_back(0);
  return out;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

TEST(DnsQuery, RealDigQuery) {
  DnsQueryParse parsed = parse(kDigQuery);
  ASSERT_EQ(parsed.status, ParseStatus::complete) << parsed.problem;
  EXPECT_EQ(parsed.id, 0x7d93);
  EXPECT_EQ(parsed.query.id, 0x7d93);
  EXPECT_TRUE(parsed.query.recursion_desired);
  EXPECT_EQ(parsed.query.name, "api.example.test");
  EXPECT_TRUE(parsed.query.name_is_hostname);
  EXPECT_EQ(parsed.query.type, dns_type::a);
  EXPECT_EQ(parsed.query.klass, 1);
  EXPECT_EQ(parsed.query.edns_udp_size, 1232);
  EXPECT_EQ(parsed.query.wire_name, Bytes(kDigQuery.begin() + 12, kDigQuery.begin() + 30));
}

TEST(DnsQuery, EveryTruncationOfTheRealQueryIsInvalid) {
  for (size_t size = 0; size < kDigQuery.size(); ++size) {
    const Bytes prefix(kDigQuery.begin(), kDigQuery.begin() + static_cast<std::ptrdiff_t>(size));
    DnsQueryParse parsed = parse(prefix);
    EXPECT_EQ(parsed.status, ParseStatus::invalid) << size;
    EXPECT_THAT(parsed.problem, HasSubstr(size < 12 ? "shorter than its header" : "truncated"))
        << size;
    // The header alone is enough to answer FORMERR with the right id.
    EXPECT_EQ(parsed.id.has_value(), size >= 12) << size;
  }
}

TEST(DnsQuery, TrailingGarbageIsInvalid) {
  EXPECT_EQ(expect_invalid(concat(kDigQuery, {0})), "1 bytes after the DNS query");
  EXPECT_EQ(expect_invalid(concat(query(wire({"a", "example"})), {0xde, 0xad})),
            "2 bytes after the DNS query");
}

TEST(DnsQuery, NamesAreLowerCasedAndTheWireFormKept) {
  DnsQueryParse parsed = parse(query(wire({"ApI", "ExAmPlE", "TEST"}), dns_type::aaaa, 0));
  ASSERT_EQ(parsed.status, ParseStatus::complete) << parsed.problem;
  EXPECT_EQ(parsed.query.name, "api.example.test");
  EXPECT_EQ(parsed.query.wire_name, wire({"ApI", "ExAmPlE", "TEST"}));
  EXPECT_TRUE(parsed.query.name_is_hostname);
  EXPECT_FALSE(parsed.query.recursion_desired);
  EXPECT_EQ(parsed.query.type, dns_type::aaaa);
  EXPECT_EQ(parsed.query.edns_udp_size, std::nullopt);
}

TEST(DnsQuery, WhatIsNotAHostname) {
  struct Case {
    std::vector<std::string> labels;
    std::string name;
  };
  const std::vector<Case> cases = {
      {{"a.b", "example"}, "a.b.example"},  // a dot inside a label: reads like three labels
      {{"a b", "example"}, "a b.example"},
      {{std::string("a\0b", 3), "example"}, std::string("a\0b.example", 11)},
      {{"caf\xc3\xa9", "EXAMPLE"}, "caf\xc3\xa9.example"},
      {{"*", "example"}, "*.example"},
      {{}, ""},  // the root
  };
  for (const Case& c : cases) {
    DnsQueryParse parsed = parse(query(wire(c.labels)));
    ASSERT_EQ(parsed.status, ParseStatus::complete) << c.name;
    EXPECT_EQ(parsed.query.name, c.name);
    EXPECT_FALSE(parsed.query.name_is_hostname) << c.name;
  }
  EXPECT_TRUE(parse(query(wire({"_dmarc", "x-1", "example"}))).query.name_is_hostname);
}

TEST(DnsQuery, NameLengths) {
  const std::string l63(63, 'a');
  // 63+63+63+61 = 250 letters + 3 dots = 253 characters: 255 wire bytes, the most there is.
  DnsQueryParse parsed = parse(query(wire({l63, l63, l63, std::string(61, 'b')})));
  ASSERT_EQ(parsed.status, ParseStatus::complete) << parsed.problem;
  EXPECT_EQ(parsed.query.name.size(), 253U);
  EXPECT_TRUE(parsed.query.name_is_hostname);
  EXPECT_EQ(parsed.query.wire_name.size(), 255U);
  EXPECT_THAT(expect_invalid(query(wire({l63, l63, l63, std::string(62, 'b')}))),
              HasSubstr("longer than 255 bytes"));
  EXPECT_THAT(expect_invalid(query(wire({std::string(64, 'a'), "example"}))),
              HasSubstr("DNS label of 64 bytes"));
  // 0x40 and 0x80 label types (RFC 6891 §5 extended labels) are not lengths either.
  EXPECT_THAT(expect_invalid(query({0x41, 'a', 0})), HasSubstr("DNS label of 65 bytes"));
  EXPECT_THAT(expect_invalid(query({0x80, 'a', 0})), HasSubstr("DNS label of 128 bytes"));
  // Many one-byte labels: 127 of them fit, 128 do not.
  Bytes many;
  for (int i = 0; i < 127; ++i) many.insert(many.end(), {1, 'a'});
  many.push_back(0);
  EXPECT_EQ(parse(query(many)).status, ParseStatus::complete);
  EXPECT_TRUE(parse(query(many)).query.name_is_hostname);  // 253 characters
  many.insert(many.begin(), {1, 'a'});
  EXPECT_THAT(expect_invalid(query(many)), HasSubstr("longer than 255 bytes"));
}

TEST(DnsQuery, CompressionInTheQuestionIsInvalid) {
  EXPECT_EQ(expect_invalid(query({0xc0, 0x0c})), "compression pointer in the DNS question");
  EXPECT_EQ(expect_invalid(query({3, 'a', 'p', 'i', 0xc0, 0x00})),
            "compression pointer in the DNS question");
}

TEST(DnsQuery, HeaderChecks) {
  const Bytes name = wire({"a", "example"});
  DnsQueryParse response = parse(query(name, dns_type::a, 0x8180));
  EXPECT_EQ(response.status, ParseStatus::invalid);
  EXPECT_EQ(response.problem, "DNS message is a response (QR=1)");
  EXPECT_EQ(response.id, 0x1234);
  for (int opcode : {1, 2, 4, 5, 15}) {
    EXPECT_THAT(expect_invalid(query(name, dns_type::a, static_cast<uint16_t>(opcode << 11))),
                HasSubstr("is not QUERY"));
  }
  EXPECT_THAT(expect_invalid(query(name, dns_type::a, 0, 0)), HasSubstr("0 questions"));
  EXPECT_THAT(expect_invalid(concat(query(name, dns_type::a, 0, 2), concat(name, {0, 1, 0, 1}))),
              HasSubstr("2 questions"));
  EXPECT_THAT(expect_invalid(query(name, dns_type::a, 0, 1, 1)), HasSubstr("answer or authority"));
  EXPECT_THAT(expect_invalid(query(name, dns_type::a, 0, 1, 0, 1)),
              HasSubstr("answer or authority"));
  EXPECT_THAT(expect_invalid(query(name, dns_type::a, 0, 1, 0, 0, 2)),
              HasSubstr("2 additional records"));
}

TEST(DnsQuery, OnlyOneOptInTheAdditionalSection) {
  const Bytes name = wire({"a", "example"});
  const Bytes opt = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};  // root, OPT, 4096, no options
  DnsQueryParse parsed = parse(concat(query(name, dns_type::txt, 0, 1, 0, 0, 1), opt));
  ASSERT_EQ(parsed.status, ParseStatus::complete) << parsed.problem;
  EXPECT_EQ(parsed.query.edns_udp_size, 4096);
  EXPECT_EQ(parsed.query.type, dns_type::txt);
  // TSIG (type 250) or anything not OPT.
  EXPECT_THAT(expect_invalid(concat(query(name, dns_type::a, 0, 1, 0, 0, 1),
                                    {0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0})),
              HasSubstr("of type 250 (only OPT)"));
  EXPECT_THAT(expect_invalid(concat(query(name, dns_type::a, 0, 1, 0, 0, 1),
                                    {1, 'x', 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0})),
              HasSubstr("is not OPT"));
  // ARCOUNT says 1 but nothing follows; an option that overruns the OPT record.
  EXPECT_THAT(expect_invalid(query(name, dns_type::a, 0, 1, 0, 0, 1)), HasSubstr("truncated"));
  EXPECT_THAT(expect_invalid(concat(query(name, dns_type::a, 0, 1, 0, 0, 1),
                                    {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 5, 0, 10, 0, 8, 1})),
              HasSubstr("overruns"));
  EXPECT_THAT(expect_invalid(concat(query(name, dns_type::a, 0, 1, 0, 0, 1),
                                    {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 3, 0, 10, 0})),
              HasSubstr("option truncated"));
}

TEST(DnsResponse, AnswersTheRealQuery) {
  DnsQuery parsed = parse(kDigQuery).query;
  const Bytes response = build_dns_response(
      parsed, dns_rcode::noerror, {ip("192.0.2.7"), ip("2001:db8::1"), ip("192.0.2.8")}, 30);
  Bytes expected = {0x7d, 0x93, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0};
  expected.insert(expected.end(), kDigQuery.begin() + 12, kDigQuery.begin() + kQuestionEnd);
  expected = concat(expected, {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 7});
  expected = concat(expected, {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 8});
  EXPECT_EQ(response, expected);
}

TEST(DnsResponse, AaaaAnswersAndCasePreserved) {
  DnsQuery parsed = parse(query(wire({"ApI", "example"}), dns_type::aaaa, 0)).query;
  const Bytes response = build_dns_response(parsed, dns_rcode::noerror,
                                            {ip("192.0.2.7"), ip("2001:db8::1")}, 0x01020304);
  Bytes expected = {0x12, 0x34, 0x80, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
  expected = concat(expected, wire({"ApI", "example"}));  // DNS 0x20 clients compare the case
  expected = concat(expected, {0, 28, 0, 1});
  expected = concat(expected, {0xc0, 0x0c, 0, 28, 0, 1, 1, 2, 3, 4, 0, 16});
  expected = concat(expected, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  EXPECT_EQ(response, expected);
}

TEST(DnsResponse, ErrorsAndOtherTypesHaveNoAnswers) {
  DnsQuery parsed = parse(kDigQuery).query;
  for (uint8_t rcode : {dns_rcode::nxdomain, dns_rcode::refused, dns_rcode::servfail}) {
    const Bytes response = build_dns_response(parsed, rcode, {ip("192.0.2.7")}, 30);
    ASSERT_EQ(response.size(), kQuestionEnd);
    EXPECT_EQ(response[3], 0x80 | rcode);
    EXPECT_EQ(response[7], 0);  // ANCOUNT
  }
  parsed.type = dns_type::txt;
  EXPECT_EQ(build_dns_response(parsed, dns_rcode::noerror, {ip("192.0.2.7")}, 30).size(),
            kQuestionEnd);
  parsed.type = dns_type::any;
  EXPECT_EQ(build_dns_response(parsed, dns_rcode::noerror, {ip("192.0.2.7")}, 30).size(),
            kQuestionEnd);
}

TEST(DnsResponse, AnswersStopAt512Bytes) {
  DnsQuery parsed = parse(kDigQuery).query;
  std::vector<IpAddress> addresses(100, ip("192.0.2.1"));
  const Bytes response = build_dns_response(parsed, dns_rcode::noerror, addresses, 30);
  EXPECT_LE(response.size(), 512U);
  const size_t answers = (size_t{response[6]} << 8) | response[7];
  EXPECT_EQ(answers, (512 - kQuestionEnd) / 16);
  EXPECT_EQ(response.size(), kQuestionEnd + answers * 16);
}

TEST(DnsResponse, HandBuiltQueryIsEncoded) {
  DnsQuery built;
  built.id = 9;
  built.name = "a.example";
  built.type = dns_type::a;
  built.klass = 1;
  Bytes expected = {0, 9, 0x80, 0x85, 0, 1, 0, 0, 0, 0, 0, 0};  // REFUSED
  expected = concat(expected, wire({"a", "example"}));
  expected = concat(expected, {0, 1, 0, 1});
  EXPECT_EQ(build_dns_response(built, dns_rcode::refused, {}, 0), expected);
  for (const std::string& bad :
       std::vector<std::string>{"a..example", ".a", "a.", std::string(64, 'a')}) {
    built.name = bad;
    EXPECT_EQ(build_dns_response(built, dns_rcode::noerror, {}, 0),
              build_dns_error(9, dns_rcode::servfail))
        << bad;
  }
}

TEST(DnsResponse, ErrorHeader) {
  EXPECT_EQ(build_dns_error(0xbeef, dns_rcode::formerr),
            (Bytes{0xbe, 0xef, 0x80, 0x81, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(build_dns_error(1, dns_rcode::notimp)[3], 0x84);
}

}  // namespace
}  // namespace airlock::egress
