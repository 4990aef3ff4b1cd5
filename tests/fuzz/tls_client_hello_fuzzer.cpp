// libFuzzer target for the ClientHello reader: any bytes come back complete, need_more or
// invalid, never a crash, hang, leak or an allocation past the 64 KiB hello limit.
// Invariants checked on top: a server_name is printable ASCII, and a prefix never decides
// differently from the whole stream (the proxy parses again as bytes arrive).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "wire/tls_client_hello.h"

namespace {

[[noreturn]] void invariant_broken(const char* what, size_t size) {
  (void)std::fprintf(stderr, "tls_client_hello_fuzzer: %s (input of %zu bytes)\n", what, size);
  __builtin_trap();
}

void check_shape(const airlock::egress::ClientHelloParse& parse, size_t size) {
  using airlock::egress::ParseStatus;
  if (parse.status == ParseStatus::invalid) {
    if (parse.problem.empty() || parse.problem.find('\n') != std::string::npos) {
      invariant_broken("invalid without a one-line problem", size);
    }
    if (parse.server_name) invariant_broken("invalid with a server_name", size);
    return;
  }
  if (!parse.problem.empty()) invariant_broken("problem on a valid parse", size);
  if (parse.status == ParseStatus::need_more && parse.server_name) {
    invariant_broken("need_more with a server_name", size);
  }
  if (parse.server_name) {
    if (parse.server_name->empty() || parse.server_name->size() > 255) {
      invariant_broken("server_name of impossible length", size);
    }
    for (char c : *parse.server_name) {
      if (c < 0x21 || c > 0x7e) invariant_broken("server_name byte outside 0x21-0x7e", size);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using airlock::egress::ParseStatus;
  const std::span<const uint8_t> bytes(data, size);
  const airlock::egress::ClientHelloParse whole = airlock::egress::parse_client_hello(bytes);
  check_shape(whole, size);

  const airlock::egress::ClientHelloParse half =
      airlock::egress::parse_client_hello(bytes.first(size / 2));
  check_shape(half, size);
  if (half.status == ParseStatus::complete &&
      (whole.status != ParseStatus::complete || whole.server_name != half.server_name)) {
    invariant_broken("complete on a prefix, different on the whole", size);
  }
  if (half.status == ParseStatus::invalid &&
      (whole.status != ParseStatus::invalid || whole.problem != half.problem)) {
    invariant_broken("invalid on a prefix, different on the whole", size);
  }
  return 0;
}
