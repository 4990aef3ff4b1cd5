// libFuzzer target for the HTTP request-head parser and the keep-alive stream validator: any
// bytes come back complete, need_more or invalid with a status the proxy can answer, never a
// crash, hang or leak. Invariants checked on top: the stream validator, fed the same bytes in two
// halves, yields the one-shot parse's head first (or the same verdict), and a complete head
// rewritten for the origin parses again to the same request.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "wire/http_request.h"
#include "wire/http_request_stream.h"

namespace {

using airlock::egress::HttpRequestHead;
using airlock::egress::HttpRequestParse;
using airlock::egress::HttpRequestStream;
using airlock::egress::ParseStatus;
using airlock::egress::RequestTargetForm;

constexpr size_t kMaxHead = 2048;  // below -max_len, so the 431 path is reached too

[[noreturn]] void invariant_broken(const char* what, std::string_view text) {
  (void)std::fprintf(stderr, "http_request_fuzzer: %s\n--- input (%zu bytes) ---\n%.*s\n---\n",
                     what, text.size(), static_cast<int>(text.size()), text.data());
  __builtin_trap();
}

bool one_line(const std::string& problem) {
  return !problem.empty() && problem.find('\n') == std::string::npos;
}

bool answerable(int status) {
  return status == 400 || status == 414 || status == 431 || status == 501;
}

void check_forwarded(const HttpRequestHead& head, std::string_view text) {
  const std::string forwarded = airlock::egress::head_for_origin(head);
  const HttpRequestParse again = airlock::egress::parse_http_request_head(forwarded, 1 << 20);
  if (again.status != ParseStatus::complete) {
    invariant_broken(("head_for_origin() does not parse: " + again.problem).c_str(), text);
  }
  const HttpRequestHead& origin = again.head;
  if (origin.head_length != forwarded.size()) invariant_broken("forwarded head length", text);
  if (origin.method != head.method || origin.version != head.version ||
      origin.content_length != head.content_length || origin.chunked != head.chunked) {
    invariant_broken("forwarded head is another request", text);
  }
  if (head.form == RequestTargetForm::absolute && origin.form != RequestTargetForm::origin) {
    invariant_broken("absolute-form not rewritten to origin-form", text);
  }
  if (origin.find("proxy-authorization") || origin.find("proxy-connection")) {
    invariant_broken("proxy header forwarded", text);
  }
  if (head.form == RequestTargetForm::absolute) {
    bool ok = false;
    auto [host, port] = airlock::egress::split_host_port(origin.host_header, 80, &ok);
    if (!ok || port != head.target_port ||
        !airlock::egress::equals_ignoring_case(host, head.target_host)) {
      invariant_broken("forwarded Host differs from the URL", text);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const HttpRequestParse whole = airlock::egress::parse_http_request_head(text, kMaxHead);
  if (whole.status == ParseStatus::invalid) {
    if (!one_line(whole.problem)) invariant_broken("invalid without a one-line problem", text);
    if (!answerable(whole.http_status)) invariant_broken("http_status not 400/414/431/501", text);
  } else if (!whole.problem.empty() || whole.http_status != 0) {
    invariant_broken("problem on a valid parse", text);
  }
  if (whole.status == ParseStatus::complete) {
    const HttpRequestHead& head = whole.head;
    if (head.head_length > size || head.head_length > kMaxHead ||
        text.substr(0, head.head_length).find("\r\n\r\n") != head.head_length - 4) {
      invariant_broken("head_length is not the first blank line", text);
    }
    if (head.content_length && head.chunked) invariant_broken("two body lengths", text);
    check_forwarded(head, text);
  }

  // The stream validator, fed in two halves, reaches the same verdict at the same byte.
  HttpRequestStream stream(kMaxHead);
  std::vector<HttpRequestHead> heads;
  bool invalid = false;
  int http_status = 0;
  std::string problem;
  for (std::string_view part : {text.substr(0, size / 2), text.substr(size / 2)}) {
    HttpRequestStream::Fed fed = stream.feed(part);
    // Offsets: one [begin, end) per head, in order, inside the part; a head begun in this part
    // spans exactly its head_length (one begun earlier starts at 0 and spans less).
    if (fed.head_begins.size() != fed.heads.size() || fed.head_ends.size() != fed.heads.size()) {
      invariant_broken("head offsets do not match the heads", text);
    }
    size_t previous_end = 0;
    for (size_t i = 0; i < fed.heads.size(); ++i) {
      const size_t begin = fed.head_begins[i];
      const size_t end = fed.head_ends[i];
      if (begin < previous_end || end <= begin || end > part.size()) {
        invariant_broken("head offsets out of order", text);
      }
      const size_t spanned = end - begin;
      const size_t length = fed.heads[i].head_length;
      if (begin > 0 ? spanned != length : spanned > length) {
        invariant_broken("head offsets do not span the head", text);
      }
      previous_end = end;
    }
    if (fed.open_head_begin && (*fed.open_head_begin < previous_end ||
                                *fed.open_head_begin >= part.size() || fed.invalid)) {
      invariant_broken("open head offset", text);
    }
    for (HttpRequestHead& head : fed.heads) heads.push_back(std::move(head));
    if (fed.invalid) {
      if (!one_line(fed.problem) || !answerable(fed.http_status)) {
        invariant_broken("stream invalid without a problem or status", text);
      }
      if (!invalid) {
        http_status = fed.http_status;
        problem = fed.problem;
      }
      invalid = true;
    } else if (invalid) {
      invariant_broken("stream became valid again", text);
    }
  }
  switch (whole.status) {
    case ParseStatus::complete:
      if (heads.empty() || !(heads[0] == whole.head)) {
        invariant_broken("stream head differs from the one-shot parse", text);
      }
      break;
    case ParseStatus::invalid:
      if (!heads.empty() || !invalid || http_status != whole.http_status ||
          problem != whole.problem) {
        invariant_broken("stream verdict differs from the one-shot parse", text);
      }
      break;
    case ParseStatus::need_more:
      if (!heads.empty() || invalid) invariant_broken("stream decided on an incomplete head", text);
      if (stream.at_request_boundary() != (size == 0)) {
        invariant_broken("partial head at a request boundary", text);
      }
      break;
  }
  return 0;
}
