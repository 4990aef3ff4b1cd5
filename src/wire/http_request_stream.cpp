#include "wire/http_request_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace airlock::egress {
namespace {

constexpr size_t kMaxChunkSizeLine = 4096;  // hex size and extensions; real clients send < 20

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 9110 §5.6.4 quoted-string at the start of `text`; returns its length, 0 if there is none.
size_t quoted_string_length(std::string_view text) {
  if (text.empty() || text[0] != '"') return 0;
  for (size_t i = 1; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"') return i + 1;
    if (byte == '\\') {
      if (++i == text.size()) return 0;
      const auto escaped = static_cast<unsigned char>(text[i]);
      if ((escaped < 0x20 && escaped != '\t') || escaped == 0x7f) return 0;
    } else if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
      return 0;
    }
  }
  return 0;
}

size_t token_length(std::string_view text) {
  size_t length = 0;
  while (length < text.size() && is_http_token(text.substr(length, 1))) ++length;
  return length;
}

// chunk-size [ chunk-ext ] (RFC 9112 §7.1.1), without the whitespace (BWS) the grammar allows:
// no client needs it, and parsers disagree on it.
std::optional<uint64_t> parse_chunk_size_line(std::string_view line, std::string* problem) {
  uint64_t size = 0;
  size_t digits = 0;
  for (; digits < line.size() && hex_value(line[digits]) >= 0; ++digits) {
    if (size > (UINT64_MAX >> 4)) {
      *problem = "chunk size overflows";
      return std::nullopt;
    }
    size = (size << 4) | static_cast<uint64_t>(hex_value(line[digits]));
  }
  if (digits == 0) {
    *problem = "chunk-size line does not start with hex digits";
    return std::nullopt;
  }
  std::string_view extensions = line.substr(digits);
  while (!extensions.empty()) {
    const size_t name = extensions[0] == ';' ? token_length(extensions.substr(1)) : 0;
    if (name == 0) {
      *problem = "chunk-size line with something other than ';name[=value]' after the size";
      return std::nullopt;
    }
    extensions.remove_prefix(1 + name);
    if (!extensions.empty() && extensions[0] == '=') {
      extensions.remove_prefix(1);
      size_t value = token_length(extensions);
      if (value == 0) value = quoted_string_length(extensions);
      if (value == 0) {
        *problem = "chunk extension value is neither a token nor a quoted string";
        return std::nullopt;
      }
      extensions.remove_prefix(value);
    }
  }
  return size;
}

}  // namespace

HttpRequestStream::HttpRequestStream(size_t max_head_bytes) : max_head_bytes_(max_head_bytes) {}

bool HttpRequestStream::at_request_boundary() const {
  return state_ == State::head && line_.empty();
}

void HttpRequestStream::fail(int http_status, std::string problem) {
  state_ = State::invalid;
  http_status_ = http_status;
  problem_ = std::move(problem);
  line_.clear();
  line_.shrink_to_fit();
}

HttpRequestStream::Fed HttpRequestStream::feed(std::string_view bytes) {
  Fed fed;
  head_begin_ = 0;  // a head already open began before these bytes
  size_t i = 0;
  while (i < bytes.size() && state_ != State::invalid) {
    if (state_ == State::body || state_ == State::chunk_data) {
      const size_t count = static_cast<size_t>(std::min<uint64_t>(remaining_, bytes.size() - i));
      i += count;
      fed.body_bytes += count;
      remaining_ -= count;
      if (remaining_ == 0) {
        state_ = state_ == State::body ? State::head : State::chunk_data_end;
        chunk_data_end_seen_ = 0;
      }
      continue;
    }
    const char c = bytes[i];
    if (state_ == State::head) {
      take_head_byte(c, i++, &fed);
      continue;
    }
    ++i;
    ++fed.body_bytes;
    if (state_ == State::chunk_size_line) {
      take_chunk_size_line_byte(c);
    } else if (state_ == State::chunk_data_end) {
      take_chunk_data_end_byte(c);
    } else {
      take_trailer_byte(c);
    }
  }
  if (state_ == State::head && !line_.empty()) fed.open_head_begin = head_begin_;
  if (state_ == State::invalid) {
    fed.invalid = true;
    fed.http_status = http_status_;
    fed.problem = problem_;
  }
  return fed;
}

void HttpRequestStream::take_head_byte(char c, size_t offset, Fed* fed) {
  if (line_.empty()) head_begin_ = offset;
  const bool after_cr = !line_.empty() && line_.back() == '\r';
  line_.push_back(c);
  const size_t size = line_.size();
  // The bytes at which parse_http_request_head() settles (NUL, a lone CR or LF, the blank line,
  // a size limit): only there is the whole head re-parsed, so a head costs one parse.
  const bool ends_blank_line = c == '\n' && after_cr && (size == 2 || line_[size - 3] == '\n');
  const bool settles = c == '\0' || size > max_head_bytes_ || (after_cr && c != '\n') ||
                       (c == '\n' && !after_cr) || ends_blank_line ||
                       (!head_has_lf_ && c != '\r' && c != '\n' && size > kMaxRequestLineBytes);
  if (c == '\n') head_has_lf_ = true;
  if (!settles) return;

  HttpRequestParse parse = parse_http_request_head(line_, max_head_bytes_);
  if (parse.status == ParseStatus::need_more) return;
  if (parse.status == ParseStatus::invalid) {
    fail(parse.http_status, std::move(parse.problem));
    return;
  }
  if (parse.head.head_length != size) {
    fail(400, "request head ends before its blank line");  // cannot happen: the same scan
    return;
  }
  line_.clear();
  head_has_lf_ = false;
  if (parse.head.chunked) {
    state_ = State::chunk_size_line;
    trailer_bytes_ = 0;
  } else if (parse.head.content_length.value_or(0) > 0) {
    state_ = State::body;
    remaining_ = *parse.head.content_length;
  }
  fed->heads.push_back(std::move(parse.head));
  fed->head_begins.push_back(head_begin_);
  fed->head_ends.push_back(offset + 1);
}

bool HttpRequestStream::take_line_byte(char c, size_t limit, const char* what) {
  const bool after_cr = !line_.empty() && line_.back() == '\r';
  if (after_cr && c != '\n') {
    fail(400, fmt::format("CR not followed by LF in a {}", what));
    return false;
  }
  if (c == '\n') {
    if (!after_cr) {
      fail(400, fmt::format("bare LF in a {} (lines must end with CRLF)", what));
      return false;
    }
    line_.pop_back();
    return true;
  }
  if (line_.size() >= limit) {
    fail(400, fmt::format("{} longer than {} bytes", what, limit));
    return false;
  }
  line_.push_back(c);
  return false;
}

void HttpRequestStream::take_chunk_size_line_byte(char c) {
  if (!take_line_byte(c, kMaxChunkSizeLine, "chunk-size line")) return;
  std::string problem;
  const std::optional<uint64_t> size = parse_chunk_size_line(line_, &problem);
  line_.clear();
  if (!size) {
    fail(400, problem);
  } else if (*size == 0) {
    state_ = State::trailer;
  } else {
    state_ = State::chunk_data;
    remaining_ = *size;
  }
}

void HttpRequestStream::take_chunk_data_end_byte(char c) {
  if (c != "\r\n"[chunk_data_end_seen_]) {
    fail(400, "chunk data not followed by CRLF");
    return;
  }
  if (++chunk_data_end_seen_ == 2) state_ = State::chunk_size_line;
}

void HttpRequestStream::take_trailer_byte(char c) {
  if (++trailer_bytes_ > max_head_bytes_) {
    fail(431, fmt::format("trailer section larger than {} bytes", max_head_bytes_));
    return;
  }
  if (!take_line_byte(c, max_head_bytes_, "trailer line")) return;
  if (line_.empty()) {
    state_ = State::head;  // the blank line that ends the chunked body
    return;
  }
  std::string problem;
  const std::optional<HttpHeader> field = parse_field_line(line_, &problem);
  line_.clear();
  if (!field) {
    fail(400, "trailer: " + problem);
    return;
  }
  // RFC 9110 §6.5.1: framing and routing fields are not allowed in trailers; an origin that
  // merged them into the head would read another request than the one checked.
  const std::string_view name = field->name;
  if (equals_ignoring_case(name, "content-length") ||
      equals_ignoring_case(name, "transfer-encoding") || equals_ignoring_case(name, "host")) {
    fail(400, fmt::format("{} in the trailer section", field->name));
  }
}

}  // namespace airlock::egress
