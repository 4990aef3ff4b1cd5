#include "egress/http_answer.h"

#include <fmt/format.h>

namespace airlock::egress {
namespace {

const char* status_text(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

// Header values must stay one line: the reason is ours, but it may quote client bytes.
std::string header_safe(const std::string& text) {
  std::string out;
  for (char c : text) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

std::string http_answer(int status, const std::string& reason) {
  const std::string body = "airlock: " + header_safe(reason) + "\n";
  return fmt::format(
      "HTTP/1.1 {} {}\r\nX-Airlock-Reason: {}\r\nContent-Type: text/plain\r\n"
      "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
      status, status_text(status), header_safe(reason), body.size(), body);
}

}  // namespace airlock::egress
