// The SNI of a TLS ClientHello, read without terminating TLS: the name the proxy checks must be
// the one the server will see, so every ambiguity (two names, odd bytes, overrunning lengths) is
// refused rather than resolved one way (THREATS.md "Against the egress proxy" 1).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wire/tls_client_hello.h"

namespace airlock::egress {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

// A real ClientHello (one record, 322 bytes): what OpenSSL 3.0.19 sent for
//   openssl s_client -connect 127.0.0.1:44330 -servername api.example.test </dev/null
// to a Python socket listener on loopback that saved every byte it received.
const Bytes kOpensslHello = {
    0x16, 0x03, 0x01, 0x01, 0x3d, 0x01, 0x00, 0x01, 0x39, 0x03, 0x03, 0x99, 0x52, 0xf3, 0x55, 0xe5,
    0x80, 0x5b, 0x9b, 0x4b, 0xb9, 0xf1, 0xe7, 0xaa, 0xa0, 0xeb, 0x80, 0x83, 0xc7, 0x38, 0x23, 0x72,
    0x42, 0x4e, 0x6a, 0x3e, 0x7f, 0x2f, 0x37, 0x65, 0x4b, 0x73, 0x94, 0x20, 0x5b, 0x41, 0x92, 0xa2,
    0x85, 0xf5, 0x9d, 0x43, 0x90, 0xc3, 0x40, 0xdb, 0x57, 0x7d, 0x8b, 0x9f, 0xcd, 0x81, 0x0f, 0x1e,
    0x74, 0x0f, 0x9e, 0x52, 0x6f, 0x6b, 0xe6, 0x9e, 0x17, 0x12, 0xb1, 0x28, 0x00, 0x3e, 0x13, 0x02,
    0x13, 0x03, 0x13, 0x01, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
    0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b, 0xc0, 0x23, 0xc0, 0x27,
    0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d,
    0x00, 0x9c, 0x00, 0x3d, 0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xb2,
    0x00, 0x00, 0x00, 0x15, 0x00, 0x13, 0x00, 0x00, 0x10, 0x61, 0x70, 0x69, 0x2e, 0x65, 0x78, 0x61,
    0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01,
    0x02, 0x00, 0x0a, 0x00, 0x16, 0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00,
    0x18, 0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23, 0x00, 0x00, 0x00,
    0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05,
    0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08,
    0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04,
    0x02, 0x05, 0x02, 0x06, 0x02, 0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03, 0x03, 0x02,
    0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d,
    0x00, 0x20, 0x4b, 0x98, 0x0c, 0xb5, 0xf9, 0xa6, 0x55, 0xe4, 0x4c, 0xf1, 0x4a, 0x5a, 0xbe, 0x10,
    0xfe, 0x34, 0x26, 0xe9, 0x68, 0x21, 0xba, 0xda, 0x69, 0x5d, 0xa2, 0x39, 0xf8, 0xd6, 0xba, 0xfb,
    0x7e, 0x7e,
};
constexpr size_t kHandshakeOffset = 5;  // after the one record header

ClientHelloParse parse(const Bytes& bytes) {
  return parse_client_hello(bytes);
}

std::string expect_invalid(const Bytes& bytes) {
  ClientHelloParse result = parse(bytes);
  EXPECT_EQ(result.status, ParseStatus::invalid);
  EXPECT_FALSE(result.server_name.has_value());
  EXPECT_FALSE(result.problem.empty());
  EXPECT_EQ(result.problem.find('\n'), std::string::npos) << result.problem;
  return result.problem;
}

void append16(Bytes* out, size_t value) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value & 0xff));
}

// TLS records of type 22 carrying `handshake`, cut into fragments at the given offsets.
Bytes records(const Bytes& handshake, std::vector<size_t> cuts = {}, uint8_t type = 22) {
  cuts.push_back(handshake.size());
  Bytes out;
  size_t start = 0;
  for (size_t cut : cuts) {
    out.push_back(type);
    out.push_back(3);
    out.push_back(1);
    append16(&out, cut - start);
    out.insert(out.end(), handshake.begin() + static_cast<std::ptrdiff_t>(start),
               handshake.begin() + static_cast<std::ptrdiff_t>(cut));
    start = cut;
  }
  return out;
}

// One extension: type, length, data.
Bytes extension(uint16_t type, const Bytes& data) {
  Bytes out;
  append16(&out, type);
  append16(&out, data.size());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// server_name extension data holding host_name entries (RFC 6066 §3).
Bytes server_name_list(const std::vector<std::string>& names, uint8_t name_type = 0) {
  Bytes entries;
  for (const std::string& name : names) {
    entries.push_back(name_type);
    append16(&entries, name.size());
    entries.insert(entries.end(), name.begin(), name.end());
  }
  Bytes data;
  append16(&data, entries.size());
  data.insert(data.end(), entries.begin(), entries.end());
  return data;
}

Bytes sni(const std::string& name) {
  return extension(0, server_name_list({name}));
}

// A minimal TLS 1.2-style ClientHello handshake message (header included) with the given
// extensions block contents; no block at all when `with_extensions` is false.
Bytes hello_message(const Bytes& extensions, bool with_extensions = true) {
  Bytes body = {3, 3};
  body.insert(body.end(), 32, 0xab);            // random
  body.push_back(0);                            // legacy_session_id
  body.insert(body.end(), {0, 2, 0x13, 0x01});  // cipher_suites: TLS_AES_128_GCM_SHA256
  body.insert(body.end(), {1, 0});              // legacy_compression_methods: null
  if (with_extensions) {
    append16(&body, extensions.size());
    body.insert(body.end(), extensions.begin(), extensions.end());
  }
  Bytes message = {1, static_cast<uint8_t>(body.size() >> 16),
                   static_cast<uint8_t>((body.size() >> 8) & 0xff),
                   static_cast<uint8_t>(body.size() & 0xff)};
  message.insert(message.end(), body.begin(), body.end());
  return message;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(TlsClientHello, RealOpensslHello) {
  ClientHelloParse result = parse(kOpensslHello);
  ASSERT_EQ(result.status, ParseStatus::complete) << result.problem;
  EXPECT_EQ(result.server_name, "api.example.test");
  EXPECT_TRUE(result.problem.empty());
}

TEST(TlsClientHello, EveryPrefixOfTheRealHelloNeedsMore) {
  for (size_t size = 0; size < kOpensslHello.size(); ++size) {
    const Bytes prefix(kOpensslHello.begin(),
                       kOpensslHello.begin() + static_cast<std::ptrdiff_t>(size));
    ClientHelloParse result = parse(prefix);
    EXPECT_EQ(result.status, ParseStatus::need_more) << size << ": " << result.problem;
  }
}

TEST(TlsClientHello, BytesAfterTheHelloRecordAreNotRead) {
  // TLS 1.3 middlebox-compatibility ChangeCipherSpec, then garbage.
  Bytes stream = concat(kOpensslHello, {20, 3, 3, 0, 1, 1, 0xde, 0xad});
  ClientHelloParse result = parse(stream);
  ASSERT_EQ(result.status, ParseStatus::complete) << result.problem;
  EXPECT_EQ(result.server_name, "api.example.test");
}

// The real hello re-framed into two records, cut inside the server_name extension, then into
// three with the 4-byte handshake header itself split.
TEST(TlsClientHello, RealHelloSplitOverRecords) {
  const Bytes handshake(kOpensslHello.begin() + kHandshakeOffset, kOpensslHello.end());
  for (const std::vector<size_t>& cuts :
       std::vector<std::vector<size_t>>{{150}, {2, 200}, {1}, {handshake.size() - 1}}) {
    const Bytes stream = records(handshake, cuts);
    ClientHelloParse result = parse(stream);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.problem;
    EXPECT_EQ(result.server_name, "api.example.test");
    for (size_t size = 0; size < stream.size(); ++size) {
      const Bytes prefix(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(size));
      EXPECT_EQ(parse(prefix).status, ParseStatus::need_more) << size;
    }
  }
}

TEST(TlsClientHello, OtherRecordTypeBeforeTheHelloIsCompleteIsInvalid) {
  const Bytes handshake(kOpensslHello.begin() + kHandshakeOffset, kOpensslHello.end());
  Bytes first = records(Bytes(handshake.begin(), handshake.begin() + 100));
  Bytes rest(handshake.begin() + 100, handshake.end());
  for (uint8_t type : {uint8_t{20}, uint8_t{21}, uint8_t{23}}) {
    EXPECT_THAT(expect_invalid(concat(first, records(rest, {}, type))),
                HasSubstr("before the ClientHello was complete"));
  }
}

TEST(TlsClientHello, NotTls) {
  // An SSLv2-style CLIENT-HELLO (2-byte header with the high bit set), plain HTTP, a SOCKS5
  // greeting, and a TLS record holding an alert.
  const std::vector<Bytes> streams = {
      {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10},
      {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1'},
      {5, 1, 0},
      {21, 3, 3, 0, 2, 2, 40},
      {22},  // not yet decidable
  };
  for (size_t i = 0; i + 1 < streams.size(); ++i) {
    EXPECT_EQ(expect_invalid(streams[i]), "not a TLS ClientHello") << i;
  }
  EXPECT_EQ(parse(streams.back()).status, ParseStatus::need_more);
  EXPECT_EQ(expect_invalid({22, 2, 0}), "not a TLS ClientHello");  // record version 2.0
  // A handshake record that holds a ServerHello (type 2).
  Bytes server_hello = hello_message({});
  server_hello[0] = 2;
  EXPECT_EQ(expect_invalid(records(server_hello)), "not a TLS ClientHello");
  // ...decided on its first byte already.
  EXPECT_EQ(expect_invalid({22, 3, 1, 0, 50, 2}), "not a TLS ClientHello");
}

TEST(TlsClientHello, SizeLimits) {
  // The handshake header claims 65537 bytes: refused before they arrive.
  EXPECT_THAT(expect_invalid({22, 3, 1, 0x40, 0, 1, 0x01, 0x00, 0x01}),
              HasSubstr("ClientHello of 65537 bytes"));
  // 65536 is allowed: still waiting.
  EXPECT_EQ(parse({22, 3, 1, 0x40, 0, 1, 0x01, 0x00, 0x00}).status, ParseStatus::need_more);
  // A record longer than 2^14 (RFC 8446 §5.1).
  EXPECT_THAT(expect_invalid({22, 3, 1, 0x40, 0x01, 1}), HasSubstr("TLS record of 16385 bytes"));
  // Zero-length handshake fragments are forbidden, so records cannot be used to stall forever.
  EXPECT_THAT(expect_invalid({22, 3, 1, 0, 0}), HasSubstr("empty TLS handshake record"));
}

TEST(TlsClientHello, RecordCarryingBytesAfterTheHelloIsInvalid) {
  Bytes message = hello_message(sni("a.example"));
  EXPECT_THAT(expect_invalid(records(concat(message, {0}))), HasSubstr("after the ClientHello"));
  // Also when the excess comes in a later record.
  Bytes stream = records(concat(message, {0}), {10});
  EXPECT_THAT(expect_invalid(stream), HasSubstr("after the ClientHello"));
}

TEST(TlsClientHello, SyntheticHelloWithSni) {
  ClientHelloParse result =
      parse(records(hello_message(concat(extension(23, {}), sni("A.Example")))));
  ASSERT_EQ(result.status, ParseStatus::complete) << result.problem;
  EXPECT_EQ(result.server_name, "A.Example");  // as sent, not normalised
}

TEST(TlsClientHello, NoSniIsCompleteWithoutName) {
  // No extensions block at all (TLS 1.2 allows it), an empty one, and one without server_name.
  for (const Bytes& message :
       {hello_message({}, false), hello_message({}), hello_message(extension(23, {}))}) {
    ClientHelloParse result = parse(records(message));
    ASSERT_EQ(result.status, ParseStatus::complete) << result.problem;
    EXPECT_EQ(result.server_name, std::nullopt);
  }
}

TEST(TlsClientHello, TwoServerNameExtensionsAreInvalid) {
  EXPECT_EQ(expect_invalid(records(hello_message(concat(sni("a.example"), sni("b.example"))))),
            "more than one server_name extension");
  EXPECT_EQ(expect_invalid(records(hello_message(concat(sni("a.example"), sni("a.example"))))),
            "more than one server_name extension");
}

TEST(TlsClientHello, TwoHostNamesAreInvalid) {
  EXPECT_EQ(expect_invalid(
                records(hello_message(extension(0, server_name_list({"a.example", "b.example"}))))),
            "more than one host_name in server_name");
}

TEST(TlsClientHello, OtherNameTypeIsInvalid) {
  EXPECT_THAT(expect_invalid(records(hello_message(extension(0, server_name_list({"x"}, 1))))),
              HasSubstr("unknown type 1"));
}

TEST(TlsClientHello, EmptyNamesAreInvalid) {
  EXPECT_EQ(expect_invalid(records(hello_message(sni("")))), "empty host_name in server_name");
  EXPECT_EQ(expect_invalid(records(hello_message(extension(0, {0, 0})))), "empty server_name list");
  EXPECT_THAT(expect_invalid(records(hello_message(extension(0, {})))), HasSubstr("overruns"));
}

TEST(TlsClientHello, SniBytesOutsidePrintableAsciiAreInvalid) {
  for (const std::string& name :
       {std::string("a.example\0.evil", 15), std::string("a.example evil"), std::string("a\tb"),
        std::string("a\x7f"),
        std::string("b\xc3\xbc"
                    "cher.example"),
        std::string("\x01")}) {
    EXPECT_THAT(expect_invalid(records(hello_message(sni(name)))), HasSubstr("contains byte"))
        << name;
  }
  // NUL spliced into the real hello (same length, so only the byte check can see it).
  Bytes real = kOpensslHello;
  const size_t api = 0x99;  // offset of "api.example.test"
  ASSERT_EQ(real[api], 'a');
  real[api + 3] = 0;
  EXPECT_THAT(expect_invalid(real), HasSubstr("contains byte 0x00"));
  // Every printable byte is kept.
  std::string printable;
  for (char c = 0x21; c <= 0x7e; ++c) printable += c;
  EXPECT_EQ(parse(records(hello_message(sni(printable)))).server_name, printable);
}

TEST(TlsClientHello, OverlongSniIsInvalid) {
  EXPECT_EQ(parse(records(hello_message(sni(std::string(255, 'a'))))).status,
            ParseStatus::complete);
  EXPECT_THAT(expect_invalid(records(hello_message(sni(std::string(256, 'a'))))),
              HasSubstr("256 bytes"));
}

TEST(TlsClientHello, LengthsThatOverrunTheirContainerAreInvalid) {
  // host_name length one more than the list holds.
  Bytes list = server_name_list({"a.example"});
  list[4] = static_cast<uint8_t>(list[4] + 1);
  EXPECT_THAT(expect_invalid(records(hello_message(extension(0, list)))), HasSubstr("overruns"));
  // server_name list length one more than the extension holds.
  list = server_name_list({"a.example"});
  list[1] = static_cast<uint8_t>(list[1] + 1);
  EXPECT_THAT(expect_invalid(records(hello_message(extension(0, list)))), HasSubstr("overruns"));
  // ...and one less: a stray byte after the list.
  list = server_name_list({"a.example"});
  list[1] = static_cast<uint8_t>(list[1] - 1);
  EXPECT_THAT(expect_invalid(records(hello_message(extension(0, list)))),
              HasSubstr("bytes after the server_name list"));
  // Extension length past the extensions block.
  Bytes extensions = sni("a.example");
  extensions[3] = static_cast<uint8_t>(extensions[3] + 1);
  EXPECT_THAT(expect_invalid(records(hello_message(extensions))), HasSubstr("overruns"));
  // Extensions block shorter than what follows it.
  Bytes message = hello_message(sni("a.example"));
  message.push_back(0);
  message[3] = static_cast<uint8_t>(message[3] + 1);
  EXPECT_THAT(expect_invalid(records(message)), HasSubstr("bytes after the extensions"));
  // Session id longer than 32, cipher suites past the end, odd cipher suites, no compression.
  message = hello_message({});
  message[4 + 34] = 33;
  EXPECT_THAT(expect_invalid(records(message)), HasSubstr("legacy_session_id"));
  message = hello_message({}, false);
  message[4 + 35] = 0;
  message[4 + 36] = 0x40;
  EXPECT_THAT(expect_invalid(records(message)), HasSubstr("cipher_suites"));
  message = hello_message({}, false);
  message[4 + 36] = 1;
  EXPECT_THAT(expect_invalid(records(message)), HasSubstr("cipher_suites"));
  message = hello_message({}, false);
  message[message.size() - 2] = 0;
  EXPECT_THAT(expect_invalid(records(message)), HasSubstr("legacy_compression_methods"));
  // A handshake body that ends inside the random.
  EXPECT_THAT(expect_invalid(records({1, 0, 0, 4, 3, 3, 0, 0})), HasSubstr("random"));
  // The real hello with its extensions length one too large.
  Bytes real = kOpensslHello;
  ASSERT_EQ(real[0x8f], 0xb2);
  real[0x8f] = 0xb3;
  EXPECT_THAT(expect_invalid(real), HasSubstr("extensions overrun"));
}

TEST(TlsClientHello, RepeatedExtensionIsInvalid) {
  EXPECT_THAT(expect_invalid(records(hello_message(
                  concat(concat(extension(23, {}), sni("a.example")), extension(23, {}))))),
              HasSubstr("extension 23 appears twice"));
}

TEST(TlsClientHello, NotTlsLegacyVersion) {
  Bytes message = hello_message(sni("a.example"));
  message[4] = 2;
  EXPECT_THAT(expect_invalid(records(message)), HasSubstr("legacy_version 0x0203"));
}

}  // namespace
}  // namespace airlock::egress
