#include "credentials/placeholder.h"

#include <sys/random.h>

#include <array>
#include <cerrno>

#include "common/errno_text.h"

namespace airlock::credentials {
namespace {

constexpr size_t kPrefixSearch = 16;
constexpr size_t kMinimumRandom = 16;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

size_t shape_prefix_length(std::string_view real) {
  const size_t search = std::min(real.size(), kPrefixSearch);
  size_t prefix = 0;
  for (size_t i = 0; i < search; ++i) {
    if (real[i] == '-' || real[i] == '_') prefix = i + 1;
  }
  // Keep enough randomness even for a value that is mostly prefix.
  while (prefix > 0 && real.size() - prefix < kMinimumRandom) --prefix;
  return prefix;
}

}  // namespace

Result<std::string> make_placeholder(std::string_view real) {
  if (real.size() < kMinimumSecretLength) {
    return Error{"the value is " + std::to_string(real.size()) + " characters long; at least " +
                 std::to_string(kMinimumSecretLength) +
                 " are needed for an unguessable placeholder of the same length"};
  }
  const size_t prefix = shape_prefix_length(real);
  std::string placeholder(real.substr(0, prefix));
  // Rejection sampling: 62 letters and digits from bytes below 248 (= 4 * 62), no modulo bias.
  while (placeholder.size() < real.size()) {
    std::array<unsigned char, 64> bytes{};
    ssize_t got = ::getrandom(bytes.data(), bytes.size(), 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Error{"getrandom: " + errno_text(errno)};
    }
    for (ssize_t i = 0; i < got && placeholder.size() < real.size(); ++i) {
      if (bytes[static_cast<size_t>(i)] < 248)
        placeholder += kAlphabet[bytes[static_cast<size_t>(i)] % kAlphabet.size()];
    }
  }
  if (placeholder == real) return make_placeholder(real);  // 1 in 62^16: never, but never equal
  return placeholder;
}

}  // namespace airlock::credentials
