// The head of one HTTP/1.x request from a client, parsed strictly enough that the proxy and the
// origin cannot read two different requests out of it (RFC 9112 §2-§7, RFC 9110 §7.2; THREATS.md
// "Against the egress proxy" 1, 6, 7, 8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/parse_status.h"

// Wire parsers are used by the egress proxy only, so they share its namespace.
namespace airlock::egress {

enum class RequestTargetForm { origin, absolute, authority, asterisk };

struct HttpHeader {
  std::string name;   // as sent
  std::string value;  // OWS trimmed
  bool operator==(const HttpHeader&) const = default;
};

struct HttpRequestHead {
  std::string method, target, version;  // version "HTTP/1.1" or "HTTP/1.0" only
  std::vector<HttpHeader> headers;
  size_t head_length = 0;  // bytes up to and including the blank line
  RequestTargetForm form = RequestTargetForm::origin;
  // absolute-form / authority-form host, as written (brackets removed for IPv6); "" otherwise.
  std::string target_host;
  // Explicit or the scheme default (http 80); authority-form requires a port. 0 otherwise.
  uint16_t target_port = 0;
  // "http" for absolute-form (https:// in absolute-form is refused: use CONNECT); "" otherwise.
  std::string target_scheme;
  std::string host_header;  // the single Host header value, "" when absent
  std::optional<uint64_t> content_length;
  bool chunked = false;

  const HttpHeader* find(std::string_view name) const;  // the first one, name case-insensitive
  bool operator==(const HttpRequestHead&) const = default;
};

// A request line longer than this is answered 414 (RFC 9112 §3 suggests at least 8000).
constexpr size_t kMaxRequestLineBytes = 8192;

struct HttpRequestParse {
  ParseStatus status = ParseStatus::need_more;
  HttpRequestHead head;
  int http_status = 0;  // when invalid: 400, 414, 431 or 501 — what the proxy should answer
  std::string problem;  // one line
};

// `data` starts with the request line; bytes after the blank line are not looked at. Requests
// the proxy cannot read unambiguously are invalid, never repaired.
HttpRequestParse parse_http_request_head(std::string_view data, size_t max_head_bytes = 16384);

// The head rewritten for the origin server: origin-form target (path?query of an absolute-form
// URL, "/" if empty), Proxy-Authorization, Proxy-Connection, Proxy-Authenticate and any header
// listed in Connection removed, a Host added from the URL when an HTTP/1.0 absolute-form request
// had none; every other header in order as "name: value" with CRLF line endings.
// `keep_upgrade`: an Upgrade header stays even when Connection lists it (a WebSocket request on an
// intercepted connection, where airlock relays the upgraded stream itself).
std::string head_for_origin(const HttpRequestHead& head, bool keep_upgrade = false);

// "host", "host:port", "[v6]" or "[v6]:port" -> (host without brackets, port or default_port).
// *ok (when not null) says whether `authority` was one of these: a host of letters, digits,
// '-', '.' and '_', or an IPv6 address in brackets (no zone), and a port of 1-65535 without
// leading zeros. No userinfo, no percent-encoding. Returns {"", 0} when not ok.
std::pair<std::string, uint16_t> split_host_port(std::string_view authority, uint16_t default_port,
                                                 bool* ok);

// ASCII case-insensitive equality, as field names compare (RFC 9110 §5.1).
bool equals_ignoring_case(std::string_view a, std::string_view b);

// RFC 9110 §5.6.2 token (field names, methods, chunk extensions).
bool is_http_token(std::string_view text);

// One field line without its CRLF, `field-name ":" OWS field-value OWS` (RFC 9112 §5), or
// nullopt with *problem set (one line). Shared by the head and the chunked trailer section.
std::optional<HttpHeader> parse_field_line(std::string_view line, std::string* problem);

}  // namespace airlock::egress
