// The public suffix list (libpsl, with Debian's `publicsuffix` data when it is newer than the
// list built into the library): which names anyone can register under. `check` flags a wildcard
// at or above a public suffix, and `suggest` never collapses names above a registrable domain.
// libpsl is opened with dlopen on first use, like libidn2: `airlock run` never needs it.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"

namespace airlock::lint {

class PublicSuffixList {
 public:
  // The process-wide list, loaded once; an error names the package to install.
  static Result<const PublicSuffixList*> get();

  // True for "com", "co.uk", "github.io", "s3.amazonaws.com": names others register under.
  bool is_public_suffix(const std::string& name) const;
  // "api.example.co.uk" -> "example.co.uk"; nullopt for a public suffix itself or a bad name.
  std::optional<std::string> registrable_domain(const std::string& name) const;

 private:
  explicit PublicSuffixList(const void* context) : context_(context) {}
  const void* context_;  // psl_ctx_t*, never freed (process lifetime)
};

}  // namespace airlock::lint
