// libFuzzer target for the policy loader: any bytes must come back as a Policy or an Error,
// never a crash, hang, leak or escaping exception (policy_loader.h: "Never throws").
// Invariant checked on top: loading is deterministic, so the same text loads to the same
// canonical JSON (the policy hash in every audit event is computed over that JSON).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/policy_json.h"
#include "policy/policy_loader.h"

namespace {

// Printable for the crash log: the reproducer file is what to keep, this is what to read.
[[noreturn]] void invariant_broken(const std::string& what, std::string_view text) {
  std::fprintf(stderr, "policy_loader_fuzzer: %s\n--- input (%zu bytes) ---\n%.*s\n---\n",
               what.c_str(), text.size(), static_cast<int>(text.size()), text.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string file_name = "fuzz.yaml";

  airlock::Result<airlock::policy::Policy> first =
      airlock::policy::load_policy_text(text, file_name);
  if (!first) {
    // Errors are one line a user can act on, located in the file they wrote (or a profile).
    if (first.error().message.empty()) invariant_broken("empty error message", text);
    return 0;
  }
  // dump() is what policy_sha256() hashes; it must not throw for any policy that loaded
  // (nlohmann::json throws type_error 316 on strings that are not valid UTF-8).
  const std::string first_json = airlock::policy::to_json(*first).dump();

  airlock::Result<airlock::policy::Policy> second =
      airlock::policy::load_policy_text(text, file_name);
  if (!second) {
    invariant_broken("loaded once, then failed: " + second.error().message, text);
  }
  const std::string second_json = airlock::policy::to_json(*second).dump();
  if (first_json != second_json) {
    invariant_broken("same text, different policy:\n" + first_json + "\n" + second_json, text);
  }
  return 0;
}
