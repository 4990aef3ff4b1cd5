#include "wire/http_request.h"

#include <fmt/format.h>

#include <array>

#include "egress/ip_address.h"

namespace airlock::egress {
namespace {

constexpr size_t kMaxShown = 64;  // of client text quoted in a problem

HttpRequestParse invalid(int http_status, std::string problem) {
  HttpRequestParse parse;
  parse.status = ParseStatus::invalid;
  parse.http_status = http_status;
  parse.problem = std::move(problem);
  return parse;
}

// Client text for a one-line problem: quoted, bytes outside printable ASCII as \xNN, cut short.
std::string shown(std::string_view text) {
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte > 0x7e || byte == '\\' || byte == '\'') {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

// RFC 3986 §2: unreserved, gen-delims, sub-delims and '%' (checked for two hex digits apart).
// Everything else ('\\', '"', '<', '{', '|', space, non-ASCII, ...) is read differently by
// different URL parsers, so it is refused rather than passed on.
bool is_uri_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  constexpr std::string_view kOthers = "-._~:/?#[]@!$&'()*+,;=%";
  return kOthers.find(c) != std::string_view::npos;
}

// Host names as the policy matches them; everything else in an authority is refused.
bool is_host_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

// 1-65535, decimal, no sign or leading zero.
std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || text[0] == '0') return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

// The comma-separated elements of a list-valued field (RFC 9110 §5.6.1), OWS trimmed, empty
// elements dropped.
std::vector<std::string_view> list_elements(std::string_view value) {
  std::vector<std::string_view> elements;
  while (true) {
    const size_t comma = value.find(',');
    std::string_view element = trim_ows(value.substr(0, comma));
    if (!element.empty()) elements.push_back(element);
    if (comma == std::string_view::npos) return elements;
    value.remove_prefix(comma + 1);
  }
}

// The lower-cased names every Connection header of `head` lists.
std::vector<std::string> connection_options(const HttpRequestHead& head) {
  std::vector<std::string> options;
  for (const HttpHeader& header : head.headers) {
    if (!equals_ignoring_case(header.name, "connection")) continue;
    for (std::string_view element : list_elements(header.value)) {
      options.push_back(lowered(element));
    }
  }
  return options;
}

// The request line, split and checked (RFC 9112 §3): METHOD SP TARGET SP VERSION, single spaces.
std::optional<HttpRequestParse> read_request_line(std::string_view line, HttpRequestHead* head) {
  const size_t first = line.find(' ');
  const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
    return invalid(400, "request line is not 'METHOD TARGET VERSION' with single spaces");
  }
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, second - first - 1);
  const std::string_view version = line.substr(second + 1);
  if (!is_http_token(method)) return invalid(400, "invalid method " + shown(method));
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return invalid(400,
                   "unsupported HTTP version " + shown(version) + " (HTTP/1.1 or HTTP/1.0 only)");
  }
  if (target.empty()) return invalid(400, "empty request target");
  for (size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (c == '#') return invalid(400, "fragment ('#') in the request target");
    if (!is_uri_char(c)) {
      return invalid(400, fmt::format("byte 0x{:02x} in the request target is not allowed in a URI",
                                      static_cast<unsigned char>(c)));
    }
    if (c == '%' && (i + 2 >= target.size() || !is_hex(target[i + 1]) || !is_hex(target[i + 2]))) {
      return invalid(400, "'%' not followed by two hex digits in the request target");
    }
  }
  head->method = method;
  head->target = target;
  head->version = version;
  return std::nullopt;
}

// "authority" as the client wrote it in a URL or Host: no userinfo or percent-encoding, which
// would let "allowed@evil" or "allowed%2eevil" mean one host to us and another to the origin.
std::optional<HttpRequestParse> check_authority(std::string_view authority,
                                                std::string_view where) {
  if (authority.find('@') != std::string_view::npos) {
    return invalid(400, fmt::format("userinfo ('@') in {}", where));
  }
  if (authority.find('%') != std::string_view::npos) {
    return invalid(400, fmt::format("percent-encoding in the host of {}", where));
  }
  return std::nullopt;
}

// The target's form, host and port (RFC 9112 §3.2), and its agreement with Host (§3.2.2: a
// proxy must not let the two name different origins).
std::optional<HttpRequestParse> read_target(HttpRequestHead* head) {
  const std::string_view target = head->target;
  if (head->method == "CONNECT") {
    // RFC 9112 §3.2.3: CONNECT takes host:port and nothing else.
    if (auto bad = check_authority(target, "the CONNECT target")) return bad;
    bool ok = false;
    auto [host, port] = split_host_port(target, 0, &ok);
    if (!ok) return invalid(400, "CONNECT target " + shown(target) + " is not host:port");
    if (port == 0) return invalid(400, "CONNECT target " + shown(target) + " has no port");
    head->form = RequestTargetForm::authority;
    head->target_host = std::move(host);
    head->target_port = port;
    return std::nullopt;
  }
  if (target == "*") {
    if (head->method != "OPTIONS") return invalid(400, "'*' target is only for OPTIONS");
    head->form = RequestTargetForm::asterisk;
    return std::nullopt;
  }
  if (target[0] == '/') {
    head->form = RequestTargetForm::origin;
    return std::nullopt;
  }
  const size_t separator = target.find("://");
  if (separator == std::string_view::npos) {
    bool ok = false;
    split_host_port(target, 0, &ok);
    if (ok) return invalid(400, "authority-form target " + shown(target) + " is only for CONNECT");
    return invalid(400, "request target " + shown(target) + " is not /path, http://URL or '*'");
  }
  const std::string_view scheme = target.substr(0, separator);
  if (equals_ignoring_case(scheme, "https")) {
    return invalid(400, "https:// URL in the request line; use CONNECT for https");
  }
  if (!equals_ignoring_case(scheme, "http")) {
    return invalid(400, "scheme " + shown(scheme) + " in the request target (only http)");
  }
  const std::string_view rest = target.substr(separator + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (auto bad = check_authority(authority, "the request target")) return bad;
  bool ok = false;
  auto [host, port] = split_host_port(authority, 80, &ok);
  if (!ok) return invalid(400, "URL host " + shown(authority) + " is not host[:port]");
  head->form = RequestTargetForm::absolute;
  head->target_scheme = "http";
  head->target_host = std::move(host);
  head->target_port = port;
  return std::nullopt;
}

std::optional<HttpRequestParse> read_host(HttpRequestHead* head, size_t host_count) {
  const bool http11 = head->version == "HTTP/1.1";
  if (host_count > 1) return invalid(400, "several Host headers");
  if (host_count == 0) {
    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
    if (http11) return invalid(400, "HTTP/1.1 request without a Host header");
    return std::nullopt;
  }
  if (auto bad = check_authority(head->host_header, "the Host header")) return bad;
  bool ok = false;
  const uint16_t default_port = head->form == RequestTargetForm::authority ? 0 : 80;
  auto [host, port] = split_host_port(head->host_header, default_port, &ok);
  if (!ok) return invalid(400, "Host header " + shown(head->host_header) + " is not host[:port]");
  if (head->form == RequestTargetForm::absolute || head->form == RequestTargetForm::authority) {
    // A CONNECT Host without a port names no port to compare (its scheme is unknown).
    const bool same_port = port == head->target_port || (port == 0 && default_port == 0);
    if (!equals_ignoring_case(host, head->target_host) || !same_port) {
      return invalid(400, "Host header " + shown(head->host_header) +
                              " does not match the request target " + shown(head->target));
    }
  }
  return std::nullopt;
}

// Content-Length and Transfer-Encoding (RFC 9112 §6): exactly one way to find the end of the
// body, or the request is refused (THREATS.md bypass 7).
std::optional<HttpRequestParse> read_framing(HttpRequestHead* head) {
  const HttpHeader* length = nullptr;
  const HttpHeader* coding = nullptr;
  for (const HttpHeader& header : head->headers) {
    if (equals_ignoring_case(header.name, "content-length")) {
      if (length) return invalid(400, "several Content-Length headers");
      length = &header;
    } else if (equals_ignoring_case(header.name, "transfer-encoding")) {
      if (coding) return invalid(400, "several Transfer-Encoding headers");
      coding = &header;
    }
  }
  if (length && coding) return invalid(400, "Content-Length together with Transfer-Encoding");
  if (length) {
    if (length->value.empty()) return invalid(400, "empty Content-Length");
    uint64_t value = 0;
    for (char c : length->value) {
      if (!is_digit(c))
        return invalid(400, "Content-Length " + shown(length->value) + " is not digits");
      const auto digit = static_cast<uint64_t>(c - '0');
      if (value > (UINT64_MAX - digit) / 10) return invalid(400, "Content-Length overflows");
      value = value * 10 + digit;
    }
    head->content_length = value;
  }
  if (coding) {
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (head->version == "HTTP/1.0")
      return invalid(400, "Transfer-Encoding in an HTTP/1.0 request");
    const std::vector<std::string_view> codings = list_elements(coding->value);
    if (codings.size() == 1 && equals_ignoring_case(codings[0], "chunked")) {
      head->chunked = true;
    } else if (codings.empty()) {
      return invalid(400, "empty Transfer-Encoding");
    } else {
      for (size_t i = 0; i + 1 < codings.size(); ++i) {
        if (equals_ignoring_case(codings[i], "chunked")) {
          return invalid(400, "chunked is not the last Transfer-Encoding");
        }
      }
      return invalid(
          501, "Transfer-Encoding " + shown(coding->value) + " is not supported (only chunked)");
    }
  }
  if (head->method == "CONNECT" && (length || coding)) {
    return invalid(400, "CONNECT with a body length header");
  }
  return std::nullopt;
}

// Connection names hop-by-hop headers that head_for_origin() drops; naming the framing or the
// Host would make the origin read another request than the one checked here.
std::optional<HttpRequestParse> read_connection(const HttpRequestHead& head) {
  for (const HttpHeader& header : head.headers) {
    if (!equals_ignoring_case(header.name, "connection")) continue;
    for (std::string_view element : list_elements(header.value)) {
      if (!is_http_token(element)) {
        return invalid(400, "Connection header " + shown(header.value) + " is not a token list");
      }
      if (equals_ignoring_case(element, "host") ||
          equals_ignoring_case(element, "content-length") ||
          equals_ignoring_case(element, "transfer-encoding")) {
        return invalid(400, "Connection header lists " + shown(element) + ", an end-to-end header");
      }
    }
  }
  return std::nullopt;
}

}  // namespace

const HttpHeader* HttpRequestHead::find(std::string_view name) const {
  for (const HttpHeader& header : headers) {
    if (equals_ignoring_case(header.name, name)) return &header;
  }
  return nullptr;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_http_token(std::string_view text) {
  if (text.empty()) return false;
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  for (char c : text) {
    if (!is_alpha(c) && !is_digit(c) && kSymbols.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::optional<HttpHeader> parse_field_line(std::string_view line, std::string* problem) {
  if (!line.empty() && is_ows(line[0])) {
    *problem = "obs-fold (a header line starting with whitespace)";
    return std::nullopt;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    *problem = "header line " + shown(line) + " has no ':'";
    return std::nullopt;
  }
  const std::string_view name = line.substr(0, colon);
  if (name.empty()) {
    *problem = "header line with an empty name";
    return std::nullopt;
  }
  // RFC 9112 §5.1: whitespace before the colon MUST be answered with 400.
  if (is_ows(name.back())) {
    *problem = "whitespace between header name " + shown(trim_ows(name)) + " and ':'";
    return std::nullopt;
  }
  if (!is_http_token(name)) {
    *problem = "invalid character in header name " + shown(name);
    return std::nullopt;
  }
  const std::string_view value = trim_ows(line.substr(colon + 1));
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
      *problem = fmt::format("control byte 0x{:02x} in the value of header {}", byte, shown(name));
      return std::nullopt;
    }
  }
  return HttpHeader{std::string(name), std::string(value)};
}

std::pair<std::string, uint16_t> split_host_port(std::string_view authority, uint16_t default_port,
                                                 bool* ok) {
  if (ok) *ok = false;
  std::string_view host;
  std::optional<std::string_view> port_text;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return {"", 0};
    host = authority.substr(1, close - 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return {"", 0};
      port_text = rest.substr(1);
    }
    // IpAddress::parse is inet_pton: no zone id, and "[1.2.3.4]" is not an IPv6 literal.
    const std::optional<IpAddress> address = IpAddress::parse(host);
    if (!address || address->is_v4()) return {"", 0};
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (host.empty()) return {"", 0};
    for (char c : host) {
      if (!is_host_char(c)) return {"", 0};
    }
  }
  uint16_t port = default_port;
  if (port_text) {
    const std::optional<uint16_t> parsed = parse_port(*port_text);
    if (!parsed) return {"", 0};
    port = *parsed;
  }
  if (ok) *ok = true;
  return {std::string(host), port};
}

HttpRequestParse parse_http_request_head(std::string_view data, size_t max_head_bytes) {
  // Lines first (RFC 9112 §2.2): CRLF only, no NUL; the decision is made at the first byte that
  // settles it, so a stream validator that re-parses at those bytes reaches the same verdict.
  std::vector<std::string_view> lines;
  size_t line_start = 0;
  size_t head_length = 0;
  for (size_t i = 0; i < data.size() && head_length == 0; ++i) {
    if (i >= max_head_bytes) {
      return invalid(431, fmt::format("request head larger than {} bytes", max_head_bytes));
    }
    const char c = data[i];
    if (c == '\0') return invalid(400, "NUL byte in the request head");
    if (i > 0 && data[i - 1] == '\r' && c != '\n') {
      return invalid(400, "CR not followed by LF in the request head");
    }
    if (c == '\n') {
      if (i == 0 || data[i - 1] != '\r') {
        return invalid(400, "bare LF in the request head (lines must end with CRLF)");
      }
      const std::string_view line = data.substr(line_start, i - 1 - line_start);
      line_start = i + 1;
      if (!line.empty()) {
        lines.push_back(line);
      } else if (lines.empty()) {
        return invalid(400, "empty line before the request line");
      } else {
        head_length = i + 1;
      }
    } else if (lines.empty() && c != '\r' && i >= kMaxRequestLineBytes) {
      return invalid(414, fmt::format("request line longer than {} bytes", kMaxRequestLineBytes));
    }
  }
  if (head_length == 0) return {};

  HttpRequestParse parse;
  HttpRequestHead& head = parse.head;
  head.head_length = head_length;
  if (auto bad = read_request_line(lines[0], &head)) return *bad;
  size_t host_count = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string problem;
    std::optional<HttpHeader> header = parse_field_line(lines[i], &problem);
    if (!header) return invalid(400, problem);
    if (equals_ignoring_case(header->name, "host")) {
      ++host_count;
      head.host_header = header->value;
    }
    head.headers.push_back(std::move(*header));
  }
  if (auto bad = read_target(&head)) return *bad;
  if (auto bad = read_host(&head, host_count)) return *bad;
  if (auto bad = read_framing(&head)) return *bad;
  if (auto bad = read_connection(head)) return *bad;
  parse.status = ParseStatus::complete;
  return parse;
}

std::string head_for_origin(const HttpRequestHead& head, bool keep_upgrade) {
  std::string target = head.target;
  if (head.form == RequestTargetForm::absolute) {
    const size_t authority = target.find("://") + 3;
    const size_t path = target.find_first_of("/?", authority);
    target = path == std::string::npos ? "/" : target.substr(path);
    if (target[0] == '?') target.insert(0, "/");
  }
  std::string out = head.method + " " + target + " " + head.version + "\r\n";

  const std::vector<std::string> listed = connection_options(head);
  constexpr std::array<std::string_view, 3> kProxyOnly = {"proxy-authorization", "proxy-connection",
                                                          "proxy-authenticate"};
  for (const HttpHeader& header : head.headers) {
    const std::string name = lowered(header.name);
    bool drop = false;
    for (std::string_view proxy_only : kProxyOnly) drop = drop || name == proxy_only;
    for (const std::string& option : listed) drop = drop || name == option;
    if (drop && !(keep_upgrade && name == "upgrade")) continue;
    out += header.name;
    out += header.value.empty() ? ":" : ": ";
    out += header.value;
    out += "\r\n";
  }
  if (head.form == RequestTargetForm::absolute && head.host_header.empty()) {
    const bool v6 = head.target_host.find(':') != std::string::npos;
    out += "Host: ";
    out += v6 ? "[" + head.target_host + "]" : head.target_host;
    if (head.target_port != 80) out += ":" + std::to_string(head.target_port);
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace airlock::egress
