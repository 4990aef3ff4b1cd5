// Request heads from clients of the HTTP proxy: what is accepted is read one way only; anything
// that two parsers could read differently (smuggling, folded or oddly spaced headers, userinfo,
// a URL and a Host naming different hosts) is refused with the status the proxy should answer
// (THREATS.md "Against the egress proxy" 1, 6, 7, 8).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "wire/http_request.h"

namespace airlock::egress {
namespace {

using ::testing::HasSubstr;

HttpRequestHead expect_head(const std::string& text) {
  HttpRequestParse parsed = parse_http_request_head(text);
  EXPECT_EQ(parsed.status, ParseStatus::complete) << text << "\nproblem: " << parsed.problem;
  EXPECT_TRUE(parsed.problem.empty());
  EXPECT_EQ(parsed.http_status, 0);
  return parsed.head;
}

// Parses `text`, which must be refused with `status`, and returns the explanation.
std::string expect_refused(const std::string& text, int status = 400, size_t max = 16384) {
  HttpRequestParse parsed = parse_http_request_head(text, max);
  EXPECT_EQ(parsed.status, ParseStatus::invalid) << text;
  EXPECT_EQ(parsed.http_status, status) << text << "\nproblem: " << parsed.problem;
  EXPECT_FALSE(parsed.problem.empty()) << text;
  EXPECT_EQ(parsed.problem.find('\n'), std::string::npos) << parsed.problem;
  return parsed.problem;
}

// A GET for http://a.example/ in origin form with the given extra header lines.
std::string get_with(const std::string& lines) {
  return "GET / HTTP/1.1\r\nHost: a.example\r\n" + lines + "\r\n";
}

TEST(HttpRequest, OriginForm) {
  const std::string text =
      "GET /index.html?q=1 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: curl/7.88.1\r\n"
      "Accept: */*\r\n\r\nBODY-NOT-READ";
  HttpRequestHead head = expect_head(text);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/index.html?q=1");
  EXPECT_EQ(head.version, "HTTP/1.1");
  EXPECT_EQ(head.form, RequestTargetForm::origin);
  EXPECT_EQ(head.host_header, "a.example");
  EXPECT_EQ(head.target_host, "");
  EXPECT_EQ(head.target_port, 0);
  EXPECT_EQ(head.head_length, text.size() - std::string("BODY-NOT-READ").size());
  ASSERT_EQ(head.headers.size(), 3U);
  EXPECT_EQ(head.headers[1].name, "User-Agent");
  EXPECT_EQ(head.headers[1].value, "curl/7.88.1");
  EXPECT_EQ(head.content_length, std::nullopt);
  EXPECT_FALSE(head.chunked);
}

TEST(HttpRequest, AbsoluteFormAsCurlSendsIt) {
  // curl -x http://127.0.0.1:3128 http://a.example:8080/p
  HttpRequestHead head = expect_head(
      "GET http://a.example:8080/p HTTP/1.1\r\nHost: a.example:8080\r\nUser-Agent: curl/7.88.1\r\n"
      "Accept: */*\r\nProxy-Connection: Keep-Alive\r\n\r\n");
  EXPECT_EQ(head.form, RequestTargetForm::absolute);
  EXPECT_EQ(head.target_scheme, "http");
  EXPECT_EQ(head.target_host, "a.example");
  EXPECT_EQ(head.target_port, 8080);
  EXPECT_EQ(head.host_header, "a.example:8080");

  head = expect_head("GET HTTP://A.Example HTTP/1.1\r\nHost: a.example:80\r\n\r\n");
  EXPECT_EQ(head.target_scheme, "http");
  EXPECT_EQ(head.target_host, "A.Example");  // as written
  EXPECT_EQ(head.target_port, 80);
}

TEST(HttpRequest, AbsoluteFormIpv6) {
  HttpRequestHead head =
      expect_head("GET http://[2001:db8::1]:81/x HTTP/1.1\r\nHost: [2001:DB8::1]:81\r\n\r\n");
  EXPECT_EQ(head.target_host, "2001:db8::1");
  EXPECT_EQ(head.target_port, 81);
}

TEST(HttpRequest, AuthorityFormForConnect) {
  HttpRequestHead head = expect_head(
      "CONNECT api.example.test:443 HTTP/1.1\r\nHost: api.example.test:443\r\n"
      "User-Agent: curl/7.88.1\r\nProxy-Connection: Keep-Alive\r\n\r\n");
  EXPECT_EQ(head.form, RequestTargetForm::authority);
  EXPECT_EQ(head.target_host, "api.example.test");
  EXPECT_EQ(head.target_port, 443);
  head = expect_head("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
  EXPECT_EQ(head.target_host, "::1");
  EXPECT_EQ(head.target_port, 8443);
  // HTTP/1.0 without Host (Python's http.client tunnels used to send this).
  head = expect_head("CONNECT a.example:443 HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.target_port, 443);
  // A Host without a port names no port to disagree with.
  expect_head("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example\r\n\r\n");
}

TEST(HttpRequest, AsteriskForm) {
  EXPECT_EQ(expect_head("OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n").form,
            RequestTargetForm::asterisk);
  EXPECT_THAT(expect_refused("GET * HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("only for OPTIONS"));
}

TEST(HttpRequest, Http10WithoutHost) {
  HttpRequestHead head = expect_head("GET http://a.example/ HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.host_header, "");
  EXPECT_EQ(head.target_host, "a.example");
}

TEST(HttpRequest, IncompleteNeedsMore) {
  const std::string text = "POST /x HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\n";
  for (size_t size = 0; size < text.size(); ++size) {
    HttpRequestParse parsed = parse_http_request_head(text.substr(0, size));
    EXPECT_EQ(parsed.status, ParseStatus::need_more) << size << ": " << parsed.problem;
  }
  EXPECT_EQ(expect_head(text).content_length, 3U);
}

TEST(HttpRequest, HeaderValuesAreTrimmedAndFindIsCaseInsensitive) {
  HttpRequestHead head =
      expect_head(get_with("X-A: \t spaced out \t\r\nx-empty:\r\nX-Tab:\tv\r\n"));
  ASSERT_NE(head.find("x-a"), nullptr);
  EXPECT_EQ(head.find("X-A")->value, "spaced out");
  EXPECT_EQ(head.find("X-EMPTY")->value, "");
  EXPECT_EQ(head.find("x-tab")->value, "v");
  EXPECT_EQ(head.find("missing"), nullptr);
  EXPECT_EQ(head.find("HOST")->value, "a.example");
  // obs-text (bytes >= 0x80) is allowed in values.
  EXPECT_EQ(expect_head(get_with("X-U: caf\xc3\xa9\r\n")).find("x-u")->value, "caf\xc3\xa9");
}

TEST(HttpRequest, BareLfAnywhereIsRefused) {
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\nHost: a.example\r\n\r\n"), HasSubstr("bare LF"));
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\r\nHost: a.example\n\r\n"), HasSubstr("bare LF"));
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\r\nHost: a.example\r\n\n"), HasSubstr("bare LF"));
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\r\nHost: a.example\r\nX: a\nb\r\n\r\n"),
              HasSubstr("bare LF"));
  // Decided before the head is complete.
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\n"), HasSubstr("bare LF"));
}

TEST(HttpRequest, BareCrAndNulAreRefused) {
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\r\nHost: a.example\rX: y\r\n\r\n"),
              HasSubstr("CR not followed by LF"));
  EXPECT_THAT(expect_refused(get_with(std::string("X: a\0b\r\n", 8))), HasSubstr("NUL"));
  EXPECT_THAT(expect_refused(std::string("GET /\0 HTTP/1.1\r\n", 17)), HasSubstr("NUL"));
}

TEST(HttpRequest, ObsFoldIsRefused) {
  EXPECT_THAT(expect_refused(get_with("X-A: one\r\n two\r\n")), HasSubstr("obs-fold"));
  EXPECT_THAT(expect_refused(get_with("X-A: one\r\n\ttwo\r\n")), HasSubstr("obs-fold"));
  // A folded Host would hide a second host name from a parser that unfolds.
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\r\n Host: evil.example\r\nHost: a.example\r\n\r\n"),
              HasSubstr("obs-fold"));
}

TEST(HttpRequest, WhitespaceBeforeColonIsRefused) {
  EXPECT_THAT(expect_refused(get_with("Content-Length : 5\r\n")),
              HasSubstr("whitespace between header name 'Content-Length' and ':'"));
  EXPECT_THAT(expect_refused(get_with("Transfer-Encoding\t: chunked\r\n")),
              HasSubstr("whitespace between"));
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\r\nHost : evil.example\r\n\r\n"),
              HasSubstr("whitespace between"));
}

TEST(HttpRequest, InvalidNameOrMethodCharactersAreRefused) {
  for (const char* line : {"X(A): 1\r\n", "X A: 1\r\n", "X\"A: 1\r\n", "X\x80: 1\r\n", "X@A: 1\r\n",
                           "X/A: 1\r\n", "[X]: 1\r\n"}) {
    EXPECT_THAT(expect_refused(get_with(line)), HasSubstr("invalid character in header name"))
        << line;
  }
  EXPECT_THAT(expect_refused(get_with(": no name\r\n")), HasSubstr("empty name"));
  EXPECT_THAT(expect_refused(get_with("NoColon\r\n")), HasSubstr("has no ':'"));
  for (const char* method : {"G(ET", "GE\"T", "G\x01T", "G\x7fT", "GET\t"}) {
    EXPECT_THAT(expect_refused(std::string(method) + " / HTTP/1.1\r\nHost: a.example\r\n\r\n"),
                HasSubstr("invalid method"))
        << method;
  }
}

TEST(HttpRequest, ControlCharactersInValuesAreRefused) {
  for (const char* line : {"X: a\x01z\r\n", "X: a\x1fz\r\n", "X: a\x7fz\r\n", "X: \x1b[31m\r\n"}) {
    EXPECT_THAT(expect_refused(get_with(line)), HasSubstr("control byte")) << line;
  }
}

TEST(HttpRequest, RequestLineShape) {
  for (const char* line : {"GET  / HTTP/1.1", "GET / HTTP/1.1 ", " GET / HTTP/1.1", "GET /", "GET",
                           "GET\t/\tHTTP/1.1", "GET / HTTP/1.1 extra"}) {
    expect_refused(std::string(line) + "\r\nHost: a.example\r\n\r\n");
  }
  for (const char* version : {"HTTP/2.0", "HTTP/1.2", "http/1.1", "HTTP/1", "HTTP/0.9"}) {
    EXPECT_THAT(expect_refused(std::string("GET / ") + version + "\r\nHost: a.example\r\n\r\n"),
                HasSubstr("unsupported HTTP version"));
  }
  EXPECT_THAT(expect_refused("\r\nGET / HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("empty line before the request line"));
}

TEST(HttpRequest, TargetCharactersOutsideUrisAreRefused) {
  for (const char* target :
       {"/a\\b", "/a\"b", "/<x>", "/a{b}", "/a|b", "/a^b", "/a`b", "/caf\xc3\xa9"}) {
    EXPECT_THAT(
        expect_refused(std::string("GET ") + target + " HTTP/1.1\r\nHost: a.example\r\n\r\n"),
        HasSubstr("is not allowed in a URI"))
        << target;
  }
  EXPECT_THAT(expect_refused("GET /a#frag HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("fragment"));
  EXPECT_THAT(expect_refused("GET /a%2 HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("two hex digits"));
  EXPECT_THAT(expect_refused("GET /a%zz HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("two hex digits"));
  expect_head("GET /a%2Fb?x=%41 HTTP/1.1\r\nHost: a.example\r\n\r\n");
}

TEST(HttpRequest, ContentLengthWithTransferEncodingIsRefused) {
  EXPECT_EQ(expect_refused(get_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")),
            "Content-Length together with Transfer-Encoding");
  EXPECT_EQ(expect_refused(get_with("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n")),
            "Content-Length together with Transfer-Encoding");
}

TEST(HttpRequest, TransferEncodingMustBeExactlyChunked) {
  EXPECT_TRUE(expect_head(get_with("Transfer-Encoding: chunked\r\n")).chunked);
  EXPECT_TRUE(expect_head(get_with("transfer-encoding: CHUNKED \r\n")).chunked);
  EXPECT_THAT(expect_refused(get_with("Transfer-Encoding: chunked, x\r\n")),
              HasSubstr("chunked is not the last"));
  EXPECT_THAT(expect_refused(get_with("Transfer-Encoding: chunked, chunked\r\n")),
              HasSubstr("chunked is not the last"));
  for (const char* value : {"gzip, chunked", "xchunked", "chunkedx", "gzip", "chunked;q=1",
                            "identity", "\"chunked\""}) {
    EXPECT_THAT(expect_refused(get_with(std::string("Transfer-Encoding: ") + value + "\r\n"), 501),
                HasSubstr("is not supported (only chunked)"))
        << value;
  }
  EXPECT_THAT(expect_refused(get_with("Transfer-Encoding:\r\n")), HasSubstr("empty"));
  EXPECT_THAT(
      expect_refused(get_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")),
      HasSubstr("several Transfer-Encoding"));
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing cannot be trusted.
  EXPECT_THAT(expect_refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
              HasSubstr("HTTP/1.0"));
}

TEST(HttpRequest, ContentLengthMustBeOneNumber) {
  EXPECT_EQ(expect_head(get_with("Content-Length: 0\r\n")).content_length, 0U);
  EXPECT_EQ(expect_head(get_with("Content-Length: 18446744073709551615\r\n")).content_length,
            UINT64_MAX);
  EXPECT_EQ(expect_head(get_with("Content-Length: 007\r\n")).content_length, 7U);
  EXPECT_EQ(expect_refused(get_with("Content-Length: 5\r\nContent-Length: 5\r\n")),
            "several Content-Length headers");
  EXPECT_EQ(expect_refused(get_with("Content-Length: 5\r\ncontent-length: 6\r\n")),
            "several Content-Length headers");
  for (const char* value : {"5, 5", "-1", "+5", "0x10", "5 5", "1e3", "five"}) {
    EXPECT_THAT(expect_refused(get_with(std::string("Content-Length: ") + value + "\r\n")),
                HasSubstr("is not digits"))
        << value;
  }
  EXPECT_THAT(expect_refused(get_with("Content-Length:\r\n")), HasSubstr("empty Content-Length"));
  EXPECT_EQ(expect_refused(get_with("Content-Length: 18446744073709551616\r\n")),
            "Content-Length overflows");
  EXPECT_EQ(expect_refused(get_with("Content-Length: 99999999999999999999999\r\n")),
            "Content-Length overflows");
}

TEST(HttpRequest, HostHeaderCount) {
  EXPECT_EQ(expect_refused("GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 request without a Host header");
  EXPECT_EQ(expect_refused("GET / HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n\r\n"),
            "several Host headers");
  EXPECT_EQ(expect_refused("GET / HTTP/1.0\r\nHost: a.example\r\nhost: b.example\r\n\r\n"),
            "several Host headers");
  expect_head("GET / HTTP/1.0\r\n\r\n");
}

TEST(HttpRequest, HostHeaderWithPort) {
  EXPECT_EQ(expect_head("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n").host_header, "a.example");
  EXPECT_EQ(expect_head("GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n").host_header,
            "a.example:8080");
  EXPECT_EQ(expect_head("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").host_header, "[::1]:8080");
}

TEST(HttpRequest, HostHeaderMustBeHostPort) {
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\r\nHost: allowed.example@evil.example\r\n\r\n"),
              HasSubstr("userinfo"));
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\r\nHost: allowed.example%2eevil\r\n\r\n"),
              HasSubstr("percent-encoding"));
  EXPECT_THAT(expect_refused("GET / HTTP/1.1\r\nHost: [fe80::1%25lo]\r\n\r\n"),
              HasSubstr("percent-encoding"));
  for (const char* host :
       {"", "a.example:", "a.example:0", "a.example:65536", "a.example:x", "a.example:80:80",
        "a example", "a/b", "::1", "[::1", "[1.2.3.4]", "a.example,b.example", "a.example:+80"}) {
    EXPECT_THAT(expect_refused(std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n"),
                HasSubstr("is not host[:port]"))
        << host;
  }
}

TEST(HttpRequest, AbsoluteFormUserinfoIsRefused) {
  EXPECT_THAT(expect_refused("GET http://allowed@evil/ HTTP/1.1\r\nHost: evil\r\n\r\n"),
              HasSubstr("userinfo"));
  EXPECT_THAT(expect_refused("GET http://user:pw@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("userinfo"));
  // '@' later in the path is not userinfo.
  expect_head("GET http://a.example/@x HTTP/1.1\r\nHost: a.example\r\n\r\n");
}

TEST(HttpRequest, PercentEncodingInAnyHostIsRefused) {
  EXPECT_THAT(expect_refused("GET http://a%2eexample/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("percent-encoding"));
  EXPECT_THAT(expect_refused("CONNECT a%2eexample:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"),
              HasSubstr("percent-encoding"));
  EXPECT_THAT(expect_refused("GET http://[fe80::1%25lo]/ HTTP/1.1\r\n\r\n"),
              HasSubstr("percent-encoding"));
}

TEST(HttpRequest, AbsoluteFormHostMustMatchHostHeader) {
  EXPECT_THAT(expect_refused("GET http://allowed.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n"),
              HasSubstr("does not match the request target"));
  EXPECT_THAT(expect_refused("GET http://a.example:8080/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("does not match"));
  EXPECT_THAT(expect_refused("GET http://a.example/ HTTP/1.1\r\nHost: a.example:81\r\n\r\n"),
              HasSubstr("does not match"));
  EXPECT_THAT(expect_refused("GET http://a.example/ HTTP/1.1\r\nHost: a.example.\r\n\r\n"),
              HasSubstr("does not match"));
  // Case-insensitive, with the default port removed.
  expect_head("GET http://A.EXAMPLE/ HTTP/1.1\r\nHost: a.example:80\r\n\r\n");
  expect_head("GET http://a.example:80/ HTTP/1.1\r\nHost: A.Example\r\n\r\n");
  expect_head("GET http://[::1]/ HTTP/1.1\r\nHost: [::1]:80\r\n\r\n");
  // CONNECT's Host must not name another host or port either.
  EXPECT_THAT(expect_refused("CONNECT a.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n"),
              HasSubstr("does not match"));
  EXPECT_THAT(expect_refused("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:8443\r\n\r\n"),
              HasSubstr("does not match"));
}

TEST(HttpRequest, AbsoluteFormSchemes) {
  EXPECT_THAT(expect_refused("GET https://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("use CONNECT"));
  EXPECT_THAT(expect_refused("GET ftp://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("only http"));
  EXPECT_THAT(expect_refused("GET http:///x HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("is not host[:port]"));
  EXPECT_THAT(expect_refused("GET http:a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("is not /path"));
}

TEST(HttpRequest, ConnectNeedsAuthorityForm) {
  for (const char* target : {"/", "http://a.example:443/", "a.example", "*", "[::1]",
                             "a.example:443/x", "a.example:0", "user@a.example:443"}) {
    expect_refused(std::string("CONNECT ") + target + " HTTP/1.1\r\nHost: a.example:443\r\n\r\n");
  }
  EXPECT_THAT(expect_refused("CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("has no port"));
  EXPECT_THAT(expect_refused("CONNECT /x HTTP/1.1\r\nHost: a.example\r\n\r\n"),
              HasSubstr("is not host:port"));
}

TEST(HttpRequest, AuthorityFormIsOnlyForConnect) {
  EXPECT_THAT(expect_refused("GET a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"),
              HasSubstr("only for CONNECT"));
  // Methods are case-sensitive: "connect" is not CONNECT.
  EXPECT_THAT(expect_refused("connect a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"),
              HasSubstr("only for CONNECT"));
}

TEST(HttpRequest, ConnectWithABodyLengthIsRefused) {
  EXPECT_EQ(expect_refused("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n"
                           "Content-Length: 0\r\n\r\n"),
            "CONNECT with a body length header");
  EXPECT_EQ(expect_refused("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"),
            "CONNECT with a body length header");
}

TEST(HttpRequest, ConnectionMustNotListEndToEndHeaders) {
  for (const char* listed : {"Host", "content-length", "Transfer-Encoding"}) {
    EXPECT_THAT(expect_refused(get_with(std::string("Connection: close, ") + listed + "\r\n")),
                HasSubstr("an end-to-end header"));
  }
  EXPECT_THAT(expect_refused(get_with("Connection: a b\r\n")), HasSubstr("not a token list"));
}

TEST(HttpRequest, HeadLargerThanTheLimitIs431) {
  const std::string big = get_with("X-Big: " + std::string(20000, 'a') + "\r\n");
  EXPECT_THAT(expect_refused(big, 431), HasSubstr("larger than 16384 bytes"));
  // Decided as soon as the limit is passed, without the blank line.
  EXPECT_THAT(expect_refused(big.substr(0, 16385), 431), HasSubstr("larger than"));
  EXPECT_EQ(parse_http_request_head(big.substr(0, 16384)).status, ParseStatus::need_more);
  // A head of exactly the limit is fine.
  const std::string exact = get_with("X: " + std::string(100, 'a') + "\r\n");
  EXPECT_EQ(parse_http_request_head(exact, exact.size()).status, ParseStatus::complete);
  expect_refused(exact, 431, exact.size() - 1);
}

TEST(HttpRequest, RequestLineLongerThan8192Is414) {
  const std::string ok_target = "/" + std::string(8192 - 16, 'a');  // "GET " + " HTTP/1.1" = 13
  const std::string line = "GET " + ok_target + " HTTP/1.1";
  ASSERT_EQ(line.size(), 8192U - 2);
  expect_head(line + "\r\nHost: a.example\r\n\r\n");
  expect_head("GET " + ok_target + "aa HTTP/1.1\r\nHost: a.example\r\n\r\n");  // 8192
  EXPECT_THAT(expect_refused("GET " + ok_target + "aaa HTTP/1.1\r\nHost: a.example\r\n\r\n", 414),
              HasSubstr("request line longer than 8192"));
  // Decided before the line ends.
  EXPECT_EQ(expect_refused(std::string(8193, 'G'), 414), "request line longer than 8192 bytes");
  EXPECT_EQ(parse_http_request_head(std::string(8192, 'G')).status, ParseStatus::need_more);
}

TEST(HttpRequest, ProblemsQuoteClientTextSafely) {
  const std::string problem =
      expect_refused("GET / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: x\x1b y\r\n\r\n");
  EXPECT_THAT(problem, HasSubstr("control byte 0x1b"));
  EXPECT_THAT(expect_refused("G\x1b[2J / HTTP/1.1\r\nHost: a\r\n\r\n"), HasSubstr("'G\\x1b[2J'"));
}

TEST(HttpRequest, SplitHostPort) {
  bool ok = false;
  EXPECT_EQ(split_host_port("a.example", 80, &ok),
            std::make_pair(std::string("a.example"), uint16_t{80}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(split_host_port("a.example:8080", 80, &ok),
            std::make_pair(std::string("a.example"), uint16_t{8080}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(split_host_port("[2001:db8::1]", 443, &ok),
            std::make_pair(std::string("2001:db8::1"), uint16_t{443}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(split_host_port("[::ffff:127.0.0.1]:1", 443, &ok),
            std::make_pair(std::string("::ffff:127.0.0.1"), uint16_t{1}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(split_host_port("1.2.3.4:65535", 0, &ok),
            std::make_pair(std::string("1.2.3.4"), uint16_t{65535}));
  EXPECT_TRUE(ok);
  for (const char* bad :
       {"", ":80", "a:", "a:0", "a:080", "a:65536", "a:123456", "[::1]x", "[::1]:", "[]", "[::g]",
        "[1.2.3.4]", "[fe80::1%lo]", "a b", "a@b", "a%41", "a:b:c", "::1", "\xc3\xa9.example"}) {
    ok = true;
    EXPECT_EQ(split_host_port(bad, 80, &ok), std::make_pair(std::string(), uint16_t{0})) << bad;
    EXPECT_FALSE(ok) << bad;
  }
  EXPECT_EQ(split_host_port("a", 1, nullptr).second, 1);
}

TEST(HttpRequest, HeadForOriginFromAbsoluteForm) {
  HttpRequestHead head = expect_head(
      "GET http://a.example:8080/p/q?x=1 HTTP/1.1\r\nHost: a.example:8080\r\n"
      "Proxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: Keep-Alive\r\n"
      "proxy-authenticate: x\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\n"
      "X-Hop: 1\r\nAccept:*/*\r\nX-Empty:\r\nCookie: a=b; c=d\r\n\r\n");
  EXPECT_EQ(head_for_origin(head),
            "GET /p/q?x=1 HTTP/1.1\r\nHost: a.example:8080\r\nConnection: keep-alive, X-Hop\r\n"
            "Accept: */*\r\nX-Empty:\r\nCookie: a=b; c=d\r\n\r\n");
}

TEST(HttpRequest, HeadForOriginTargets) {
  EXPECT_EQ(
      head_for_origin(expect_head("GET http://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n")),
      "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
  EXPECT_EQ(
      head_for_origin(expect_head("GET http://a.example?q HTTP/1.1\r\nHost: a.example\r\n\r\n")),
      "GET /?q HTTP/1.1\r\nHost: a.example\r\n\r\n");
  EXPECT_EQ(head_for_origin(expect_head("GET /x?y HTTP/1.1\r\nHost: a.example\r\n\r\n")),
            "GET /x?y HTTP/1.1\r\nHost: a.example\r\n\r\n");
  EXPECT_EQ(head_for_origin(expect_head("OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n")),
            "OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n");
  // HTTP/1.0 without Host: the origin still learns which site is meant.
  EXPECT_EQ(head_for_origin(expect_head("GET http://a.example/ HTTP/1.0\r\n\r\n")),
            "GET / HTTP/1.0\r\nHost: a.example\r\n\r\n");
  EXPECT_EQ(head_for_origin(expect_head("GET http://[::1]:8080/ HTTP/1.0\r\n\r\n")),
            "GET / HTTP/1.0\r\nHost: [::1]:8080\r\n\r\n");
}

TEST(HttpRequest, HeadForOriginReparsesToTheSameRequest) {
  HttpRequestHead head = expect_head(
      "POST http://a.example/up HTTP/1.1\r\nHost: a.example\r\nContent-Length: 12\r\n"
      "Proxy-Authorization: Bearer x\r\nX-A:  b \r\n\r\n");
  HttpRequestHead forwarded = expect_head(head_for_origin(head));
  EXPECT_EQ(forwarded.target, "/up");
  EXPECT_EQ(forwarded.content_length, 12U);
  EXPECT_EQ(forwarded.find("proxy-authorization"), nullptr);
  EXPECT_EQ(forwarded.find("x-a")->value, "b");
}

}  // namespace
}  // namespace airlock::egress
