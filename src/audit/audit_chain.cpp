#include "audit/audit_chain.h"

#include <nettle/sha2.h>

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace airlock::audit {
namespace {

bool is_lower_hex_sha256(const std::string& text) {
  if (text.size() != kFirstPrev.size()) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

// Nettle, as for the policy hash: no library initialisation, linked statically already.
std::string sha256_hex(std::string_view bytes) {
  sha256_ctx context{};
  sha256_init(&context);
  sha256_update(&context, bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()));
  std::array<uint8_t, SHA256_DIGEST_SIZE> digest{};
  sha256_digest(&context, digest.size(), digest.data());
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string hex;
  hex.reserve(digest.size() * 2);
  for (uint8_t byte : digest) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0x0f];
  }
  return hex;
}

LineChain read_line_chain(std::string_view line) {
  LineChain chain;
  const nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
  if (event.is_discarded() || !event.is_object()) return chain;
  chain.json_object = true;
  if (auto seq = event.find("seq"); seq != event.end()) {
    chain.has_seq = true;
    // nlohmann reads a non-negative integer as unsigned; 0, negatives and fractions are not seqs.
    if (seq->is_number_unsigned() && seq->get<uint64_t>() > 0) chain.seq = seq->get<uint64_t>();
  }
  if (auto prev = event.find("prev"); prev != event.end()) {
    chain.has_prev = true;
    if (prev->is_string() && is_lower_hex_sha256(prev->get<std::string>())) {
      chain.prev = prev->get<std::string>();
    }
  }
  return chain;
}

ChainPosition position_after(std::string_view last_line) {
  return ChainPosition{read_line_chain(last_line).seq.value_or(0), sha256_hex(last_line)};
}

std::string chain_line(const ChainPosition& after, std::string_view event_object) {
  std::string line = fmt::format(R"({{"seq":{},"prev":"{}")", after.seq + 1, after.sha256);
  // "{...}" -> "," + "..." + "}"; an empty object "{}" gets no comma.
  if (event_object.size() > 2) line += ',';
  line += event_object.substr(1);
  return line;
}

}  // namespace airlock::audit
