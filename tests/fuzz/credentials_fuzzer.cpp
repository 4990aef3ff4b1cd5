// libFuzzer target for the credential code that reads sandbox bytes: the vault's check of a
// request head (substitution, misuse) and the redactor on the bytes that come back. Invariants
// on top of "no crash, hang or leak": the redactor gives the same output for any split of the
// stream, never lets the real value through and keeps the length; a head the vault rewrote is
// still a head the strict parser reads the same way; a refused head is left as it was.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "credentials/credential_vault.h"
#include "credentials/stream_redactor.h"
#include "policy/policy_loader.h"
#include "wire/http_request.h"

namespace {

using airlock::credentials::CredentialVault;
using airlock::credentials::HeadCheck;
using airlock::credentials::StreamRedactor;

// Disjoint alphabets: a replacement can never combine with its neighbours into the needle.
const std::string kReal = "sk-REALVALUE-abcdefghijklmnop";
const std::string kPlaceholder = "sk-PLACEHOLD-0123456789012345";

[[noreturn]] void invariant_broken(const char* what, std::string_view text) {
  (void)std::fprintf(stderr, "credentials_fuzzer: %s\n--- input (%zu bytes) ---\n%.*s\n---\n", what,
                     text.size(), static_cast<int>(text.size()), text.data());
  __builtin_trap();
}

std::string redact(std::string_view stream, size_t piece) {
  StreamRedactor redactor({{kReal, kPlaceholder}});
  std::string out;
  for (size_t at = 0; at < stream.size(); at += piece) redactor.feed(stream.substr(at, piece), out);
  redactor.flush(out);
  return out;
}

CredentialVault& vault() {
  static CredentialVault instance = [] {
    airlock::Result<airlock::policy::Policy> policy = airlock::policy::load_policy_text(
        "version: 1\nname: f\nnetwork: {mode: allowlist, allow: [\"api.test:443\"]}\n"
        "credentials: [{name: K, from: env:K, hosts: [api.test]}]\n",
        "fuzz.yaml");
    airlock::Result<CredentialVault> loaded = CredentialVault::load(
        *policy, [](const std::string&) { return std::optional<std::string>(kReal); });
    if (!loaded) __builtin_trap();
    return std::move(loaded).value();
  }();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 17;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  const std::string whole = redact(text, text.size() + 1);
  if (whole.size() != text.size()) invariant_broken("the redactor changed the length", text);
  if (whole.find(kReal) != std::string::npos) invariant_broken("the real value passed", text);
  if (redact(text, piece) != whole) invariant_broken("the split changed the output", text);

  // Heads: the placeholder of this run stands where the input says "@@".
  std::string head_text(text);
  const std::string placeholder = vault().header_credentials().front().placeholder;
  for (size_t at = head_text.find("@@"); at != std::string::npos; at = head_text.find("@@", at))
    head_text.replace(at, 2, placeholder);
  airlock::egress::HttpRequestParse parsed = airlock::egress::parse_http_request_head(head_text);
  if (parsed.status != airlock::egress::ParseStatus::complete) return 0;
  airlock::egress::HttpRequestHead head = parsed.head;
  const bool bound = (data[0] & 0x80) != 0;
  HeadCheck check =
      vault().check_head(head, bound ? "api.test" : "other.test", (data[0] & 0x40) != 0);
  if (check.outcome != HeadCheck::Outcome::substituted) {
    if (!(head == parsed.head)) invariant_broken("a head that was not substituted changed", text);
    return 0;
  }
  if (check.reason.find(kReal) != std::string::npos)
    invariant_broken("the value in a reason", text);
  const std::string forwarded = airlock::egress::head_for_origin(head);
  airlock::egress::HttpRequestParse again = airlock::egress::parse_http_request_head(forwarded);
  if (again.status != airlock::egress::ParseStatus::complete || again.head.method != head.method ||
      again.head.target != head.target) {
    invariant_broken("a substituted head no longer parses as the same request", text);
  }
  return 0;
}
