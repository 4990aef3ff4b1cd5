// Hosts as clients send them: one ASCII form for everything that names the same host, and a
// refusal for everything two parsers could read differently (THREATS.md bypass 2 and 6).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "egress/host_name.h"

namespace airlock::egress {
namespace {

using ::testing::HasSubstr;

// Normalises `raw`, which must be accepted as a name (not an IP literal), and checks the result.
void expect_name(const std::string& raw, const std::string& text) {
  Result<NormalisedHost> host = normalise_host(raw);
  ASSERT_TRUE(host.ok()) << raw << " was refused: " << host.error().message;
  EXPECT_EQ(host->text, text) << raw;
  EXPECT_FALSE(host->address) << raw << " became an address";
}

// Normalises `raw`, which must be accepted as an IP literal whose canonical text is `text`.
void expect_address(const std::string& raw, const std::string& text) {
  Result<NormalisedHost> host = normalise_host(raw);
  ASSERT_TRUE(host.ok()) << raw << " was refused: " << host.error().message;
  EXPECT_EQ(host->text, text) << raw;
  ASSERT_TRUE(host->address) << raw << " is not an address";
  EXPECT_EQ(*host->address, *IpAddress::parse(text)) << raw;
}

// Normalises `raw`, which must be refused, and returns the one-line explanation.
std::string expect_refused(const std::string& raw) {
  Result<NormalisedHost> host = normalise_host(raw);
  if (host.ok()) {
    ADD_FAILURE() << "'" << raw << "' was accepted as '" << host->text << "'";
    return "";
  }
  const std::string& message = host.error().message;
  EXPECT_FALSE(message.empty()) << raw;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_THAT(message, HasSubstr("host '")) << raw;
  return message;
}

TEST(HostName, CaseAndOneTrailingDot) {
  expect_name("API.Example.COM.", "api.example.com");
  expect_name("api.example.com", "api.example.com");
  expect_name("LOCALHOST", "localhost");
  expect_name("a-b.c-d.example", "a-b.c-d.example");
  EXPECT_THAT(expect_refused("example.com.."), HasSubstr("empty label"));
  EXPECT_THAT(expect_refused("."), HasSubstr("empty label"));
}

TEST(HostName, EmptyLabelsAreRefused) {
  for (const char* raw : {"a..b", ".example.com", "..", "example..com."}) {
    EXPECT_THAT(expect_refused(raw), HasSubstr("empty label")) << raw;
  }
  EXPECT_THAT(expect_refused(""), HasSubstr("is empty"));
}

TEST(HostName, UnicodeDotsSeparateLabels) {
  expect_name("api\u3002example\u3002com", "api.example.com");  // ideographic full stop
  expect_name("api\uff0eexample\uff0ecom", "api.example.com");  // fullwidth full stop
  expect_name("api\uff61example\uff61com", "api.example.com");  // halfwidth ideographic
  expect_name("api.example.com\u3002", "api.example.com");      // a Unicode root dot
  EXPECT_THAT(expect_refused("a\u3002\u3002b"), HasSubstr("empty label"));
  // ONE DOT LEADER and SMALL FULL STOP look like dots but are not separators in UTS#46.
  expect_refused("a\u2024b");
  expect_refused("a\ufe52b");
}

TEST(HostName, FullwidthFormsMapToAscii) {
  // ａｐｉ．ｅｘａｍｐｌｅ．ｃｏｍ
  expect_name("\uff41\uff50\uff49\uff0eexample\uff0ecom", "api.example.com");
  expect_name("\uff21PI.example.com", "api.example.com");  // fullwidth capital A
  // Fullwidth '@', '%', ':', '/' map onto the ASCII ones and are refused as those.
  EXPECT_THAT(expect_refused("allowed\uff20evil.com"), HasSubstr("userinfo"));
  EXPECT_THAT(expect_refused("example\uff052ecom"), HasSubstr("percent-encoding"));
  EXPECT_THAT(expect_refused("example.com\uff1a443"), HasSubstr("contains ':'"));
  EXPECT_THAT(expect_refused("example.com\uff0fx"), HasSubstr("contains '/'"));
}

TEST(HostName, InternationalNamesBecomePunycode) {
  expect_name("b\u00fccher.example", "xn--bcher-kva.example");   // bücher, composed (NFC)
  expect_name("bu\u0308cher.example", "xn--bcher-kva.example");  // u + combining diaeresis
  expect_name("B\u00dcCHER.example", "xn--bcher-kva.example");   // BÜCHER
  expect_name("\u0430pple.com", "xn--pple-43d.com");             // Cyrillic 'а'
  expect_name("fa\u00df.de", "xn--fa-hia.de");      // nontransitional: ß stays, not "fass.de"
  expect_name("exam\u00adple.com", "example.com");  // UTS#46 ignores the soft hyphen
}

TEST(HostName, PunycodeRoundTrips) {
  expect_name("xn--bcher-kva.example", "xn--bcher-kva.example");
  expect_name("XN--BCHER-KVA.Example", "xn--bcher-kva.example");
  expect_name("xn--fa-hia.de", "xn--fa-hia.de");
  expect_name("xn--pple-43d.com", "xn--pple-43d.com");
  for (const char* raw : {"xn--zz.example", "xn--.example", "xn--a.com"}) {
    EXPECT_THAT(expect_refused(raw), HasSubstr("not a valid international domain name")) << raw;
  }
}

TEST(HostName, WhatIdna2008DisallowsIsRefusedNotMappedTransitionally) {
  // Transitional processing would accept these as other names (☃ -> xn--n3h, ZWJ deleted).
  expect_refused("\u2603.net");         // ☃
  expect_refused("xn--n3h.net");        // its punycode
  expect_refused("ex\u200dample.com");  // ZERO WIDTH JOINER
  expect_refused("a\u200cb.com");       // ZERO WIDTH NON-JOINER
  expect_refused("\u0308a.com");        // leading combining mark
  expect_refused("\xff.com");           // not UTF-8
  expect_refused("a\xc3");              // truncated UTF-8
}

TEST(HostName, AsciiLabelsWithDoubleHyphensAreNames) {
  // Real names (YouTube's video hosts); UTS#46 only checks "--" in non-ASCII or xn-- labels.
  expect_name("r3---sn-4g5e6nz7.googlevideo.com", "r3---sn-4g5e6nz7.googlevideo.com");
  expect_name("ab--cd.example", "ab--cd.example");
}

TEST(HostName, PercentEncodingAndZoneIdsAreRefused) {
  for (const char* raw :
       {"example.com%2e", "%65xample.com", "[fe80::1%25lo]", "[fe80::1%lo]", "fe80::1%25lo", "%"}) {
    EXPECT_THAT(expect_refused(raw), HasSubstr("percent-encoding")) << raw;
  }
}

TEST(HostName, UserinfoIsRefused) {
  for (const char* raw : {"allowed@evil", "allowed.com@evil.com", "user:pass@example.com", "@x"}) {
    EXPECT_THAT(expect_refused(raw), HasSubstr("userinfo")) << raw;
  }
}

TEST(HostName, ColonOutsideBracketsIsRefused) {
  for (const char* raw : {"example.com:443", "::1", "::ffff:127.0.0.1", "1.2.3.4:80", ":"}) {
    EXPECT_THAT(expect_refused(raw), HasSubstr("contains ':'")) << raw;
  }
}

TEST(HostName, WhitespaceControlAndNulAreRefused) {
  EXPECT_THAT(expect_refused("exa mple.com"), HasSubstr("whitespace"));
  EXPECT_THAT(expect_refused(" example.com"), HasSubstr("whitespace"));
  EXPECT_THAT(expect_refused("example.com\t"), HasSubstr("control"));
  EXPECT_THAT(expect_refused("example.com\r\nHost: evil"), HasSubstr("control"));
  EXPECT_THAT(expect_refused("a\177b"), HasSubstr("control"));
  EXPECT_THAT(expect_refused(std::string("allowed.com\0.evil.com", 21)), HasSubstr("NUL"));
  // Ideographic space and no-break space map onto ' ' in UTS#46.
  EXPECT_THAT(expect_refused("a\u3000b"), HasSubstr("whitespace"));
  EXPECT_THAT(expect_refused("a\u00a0b"), HasSubstr("whitespace"));
}

TEST(HostName, MessagesQuoteTheInputSafely) {
  std::string message = expect_refused("a\nb\xff");
  EXPECT_THAT(message, HasSubstr("'a\\x0ab\\xff'"));
  message = expect_refused(std::string(2000, 'a'));
  EXPECT_THAT(message, HasSubstr("...' is longer than 1024 bytes"));
}

TEST(HostName, CharactersOutsideLettersDigitsAndHyphenAreRefused) {
  for (const char* raw : {"exa_mple.com", "_dmarc.example.com", "exam/ple.com", "*.example.com",
                          "example.com/", "a!b", "a,b", "a\"b", "a\\b", "a?b", "a#b"}) {
    EXPECT_THAT(expect_refused(raw), HasSubstr("a host name is only a-z, 0-9, '-' and '.'")) << raw;
  }
  EXPECT_THAT(expect_refused("http://example.com"), HasSubstr("contains ':'"));
}

TEST(HostName, HyphenAtLabelEdgesIsRefused) {
  for (const char* raw : {"-example.com", "example-.com", "www.-x.com", "www.x-.com", "-"}) {
    EXPECT_THAT(expect_refused(raw), HasSubstr("starting or ending with '-'")) << raw;
  }
}

TEST(HostName, LabelAndNameLengths) {
  const std::string label63(63, 'a');
  expect_name(label63 + ".example.com", label63 + ".example.com");
  EXPECT_THAT(expect_refused(std::string(64, 'a') + ".example.com"), HasSubstr("longer than 63"));

  std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(name253.size(), 253U);
  expect_name(name253, name253);
  expect_name(name253 + ".", name253);  // the root dot does not count
  EXPECT_THAT(expect_refused(name253 + "b"), HasSubstr("longer than 253"));
  // Length is measured after conversion: 60 'ü' are 120 bytes but one 70-byte punycode label.
  std::string umlauts;
  for (int i = 0; i < 60; ++i) umlauts += "\u00fc";
  expect_refused(umlauts + ".example");
}

TEST(HostName, BracketedIpv6Literals) {
  expect_address("[::1]", "::1");
  expect_address("[0:0:0:0:0:0:0:1]", "::1");
  expect_address("[2001:DB8::1]", "2001:db8::1");
  expect_address("[::ffff:127.0.0.1]", "::ffff:127.0.0.1");
  expect_address("[fe80::1]", "fe80::1");
  EXPECT_THAT(expect_refused("[127.0.0.1]"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(expect_refused("[example.com]"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(expect_refused("[::g]"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(expect_refused("[]"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(expect_refused("[::1"), HasSubstr("does not end with ']'"));
  EXPECT_THAT(expect_refused("["), HasSubstr("does not end with ']'"));
  EXPECT_THAT(expect_refused("[::1]."), HasSubstr("does not end with ']'"));
  EXPECT_THAT(expect_refused("[[::1]]"), HasSubstr("'[' or ']'"));
  EXPECT_THAT(expect_refused("::1]"), HasSubstr("contains ':'"));
  EXPECT_THAT(expect_refused("a]b"), HasSubstr("'[' or ']'"));
}

TEST(HostName, DottedQuadIpv4Literals) {
  expect_address("127.0.0.1", "127.0.0.1");
  expect_address("0.0.0.0", "0.0.0.0");
  expect_address("169.254.169.254", "169.254.169.254");
  expect_address("1.2.3.4.", "1.2.3.4");  // the root dot, as for a name
  // Fullwidth digits map to ASCII digits first, so this is loopback, not a name.
  expect_address("\uff11\uff12\uff17.0.0.1", "127.0.0.1");
  expect_address("127\u30020\u30020\u30021", "127.0.0.1");
}

TEST(HostName, AlternateIpv4SpellingsAreRefused) {
  // glibc's getaddrinfo (inet_aton) reads every one of these as an address; inet_pton does not.
  for (const char* raw :
       {"2130706433", "0177.0.0.1", "0x7f.1", "0x7f.0.0.1", "0X7F.0.0.1", "0x7f000001", "127.1",
        "127.0.1", "0", "1.2.3", "01.2.3.4", "127.000.000.001", "256.1.1.1", "1.2.3.4.5",
        "example.0x1", "example.123", "0x", "\uff10"}) {  // last: fullwidth '0'
    EXPECT_THAT(expect_refused(raw), HasSubstr("not a dotted-quad IPv4 address")) << raw;
  }
}

TEST(HostName, NamesThatOnlyLookNumericAreNames) {
  expect_name("1password.com", "1password.com");
  expect_name("123.example", "123.example");
  expect_name("0x7f.example", "0x7f.example");
  expect_name("1.2.3.4.example", "1.2.3.4.example");
  expect_name("example.0xg", "example.0xg");
  expect_name("a1.b2.c3", "a1.b2.c3");
}

// What normalise_host returns is its own normal form, so a second pass (another component
// normalising again) cannot disagree with the first.
TEST(HostName, TheNormalFormIsAFixedPoint) {
  for (const char* raw : {"API.Example.COM.", "b\u00fccher.example", "api\u3002example\u3002com",
                          "\uff41\uff50\uff49.example", "XN--BCHER-KVA.example", "fa\u00df.de",
                          "\uff11\uff12\uff17.0.0.1", "r3---sn-4g5e6nz7.googlevideo.com"}) {
    Result<NormalisedHost> first = normalise_host(raw);
    ASSERT_TRUE(first.ok()) << raw << ": " << first.error().message;
    Result<NormalisedHost> second = normalise_host(first->text);
    ASSERT_TRUE(second.ok()) << first->text << ": " << second.error().message;
    EXPECT_EQ(second->text, first->text) << raw;
    EXPECT_EQ(second->address.has_value(), first->address.has_value()) << raw;
  }
}

}  // namespace
}  // namespace airlock::egress
