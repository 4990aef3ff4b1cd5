#include "lint/public_suffix.h"

#include <libpsl.h>

#include <mutex>

#include "common/shared_library.h"

namespace airlock::lint {
namespace {

struct PslFunctions {
  decltype(&psl_latest) latest = nullptr;
  decltype(&psl_is_public_suffix2) is_public_suffix2 = nullptr;
  decltype(&psl_registrable_domain) registrable_domain = nullptr;
};

PslFunctions functions;

Result<const psl_ctx_t*> load() {
  Result<SharedLibrary> library = SharedLibrary::open("libpsl.so.5", "libpsl5");
  if (!library) return library.error();
  for (const Status& bound :
       {library->bind("psl_latest", &functions.latest),
        library->bind("psl_is_public_suffix2", &functions.is_public_suffix2),
        library->bind("psl_registrable_domain", &functions.registrable_domain)}) {
    if (!bound) return bound.error();
  }
  // NULL: libpsl's own choice, the newer of its built-in list and the distribution's file
  // (/usr/share/publicsuffix/public_suffix_list.dafsa from the `publicsuffix` package).
  const psl_ctx_t* context = functions.latest(nullptr);
  if (context == nullptr) {
    return Error{"cannot load the public suffix list (install the Debian package publicsuffix)"};
  }
  return context;
}

}  // namespace

Result<const PublicSuffixList*> PublicSuffixList::get() {
  static std::once_flag once;
  static std::optional<Result<const psl_ctx_t*>> loaded;
  static std::optional<PublicSuffixList> list;
  std::call_once(once, [] {
    loaded.emplace(load());
    if (*loaded) list.emplace(PublicSuffixList(**loaded));
  });
  if (!*loaded) return loaded->error();
  return &*list;
}

bool PublicSuffixList::is_public_suffix(const std::string& name) const {
  // PSL_TYPE_ANY: the private section counts (github.io, s3.amazonaws.com are shared tenancy).
  return functions.is_public_suffix2(static_cast<const psl_ctx_t*>(context_), name.c_str(),
                                     PSL_TYPE_ANY) != 0;
}

std::optional<std::string> PublicSuffixList::registrable_domain(const std::string& name) const {
  const char* domain =
      functions.registrable_domain(static_cast<const psl_ctx_t*>(context_), name.c_str());
  if (domain == nullptr) return std::nullopt;
  return std::string(domain);
}

}  // namespace airlock::lint
