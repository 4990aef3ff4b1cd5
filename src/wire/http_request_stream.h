// Follows the client->origin bytes of a keep-alive HTTP/1.x connection the proxy relays, so the
// Host of every request is checked, not just the first (THREATS.md "Against the egress proxy" 1,
// 7); bodies are skipped by Content-Length or strict chunked framing (RFC 9112 §6.3, §7.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/http_request.h"

// Wire parsers are used by the egress proxy only, so they share its namespace.
namespace airlock::egress {

class HttpRequestStream {
 public:
  explicit HttpRequestStream(size_t max_head_bytes = 16384);

  struct Fed {
    std::vector<HttpRequestHead> heads;  // heads completed inside these bytes, in order
    // Where heads[i] lies in these bytes: [head_begins[i], head_ends[i]); a head begun in an
    // earlier feed begins at 0. Lets a caller replace heads and pass everything else through.
    std::vector<size_t> head_begins, head_ends;
    // Where the head still incomplete after these bytes begins in them (0 when it began in an
    // earlier feed); nullopt when the bytes end at a request boundary or inside a body.
    std::optional<size_t> open_head_begin;
    size_t body_bytes = 0;  // bytes of these that belong to bodies (chunk framing and trailers too)
    bool invalid = false;   // the stream is not HTTP the proxy can follow; it stays invalid
    int http_status = 0;    // when invalid: 400, 414, 431 or 501
    std::string problem;    // when invalid: one line
  };

  // Any split of the stream gives the same heads, down to one byte at a time. A CONNECT or an
  // Upgrade request is returned like any other; the bytes after one that the caller lets through
  // are not HTTP, so it stops feeding them here.
  Fed feed(std::string_view bytes);

  bool at_request_boundary() const;  // no partial head or body pending, and not invalid

 private:
  enum class State { head, body, chunk_size_line, chunk_data, chunk_data_end, trailer, invalid };

  // Takes byte `offset` of the bytes being fed, which belongs to a head.
  void take_head_byte(char c, size_t offset, Fed* fed);
  void take_chunk_size_line_byte(char c);
  void take_chunk_data_end_byte(char c);
  void take_trailer_byte(char c);
  // Appends `c` to line_ and reports whether a CRLF-terminated line is complete (CRLF removed);
  // fails the stream on a bare CR or LF, or when the line passes `limit` bytes.
  bool take_line_byte(char c, size_t limit, const char* what);
  void fail(int http_status, std::string problem);

  size_t max_head_bytes_;
  State state_ = State::head;
  std::string line_;                // the head so far, or the current chunk-size or trailer line
  bool head_has_lf_ = false;        // the request line of the head in line_ is complete
  size_t head_begin_ = 0;           // where the head in line_ began in the bytes being fed
  uint64_t remaining_ = 0;          // body or chunk-data bytes still to come
  size_t chunk_data_end_seen_ = 0;  // of the CRLF after chunk data
  size_t trailer_bytes_ = 0;
  int http_status_ = 0;
  std::string problem_;
};

}  // namespace airlock::egress
