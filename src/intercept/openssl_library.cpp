#define AIRLOCK_OPENSSL_LIBRARY_IMPLEMENTATION
#include "intercept/openssl_library.h"

#include <optional>

#include "common/shared_library.h"

namespace airlock::intercept {
namespace {

OpenSslFunctions functions;

Status load() {
  // libssl.so.3 brings libcrypto.so.3 with it; dlsym on its handle finds the symbols of both.
  Result<SharedLibrary> library = SharedLibrary::open("libssl.so.3", "libssl3");
  if (!library) return library.error();
  OpenSslFunctions loaded;
#define AIRLOCK_OPENSSL_BIND(name) \
  if (Status bound = library->bind(#name, &loaded.name##_); !bound) return bound.error();
  AIRLOCK_OPENSSL_FUNCTIONS(AIRLOCK_OPENSSL_BIND)
#undef AIRLOCK_OPENSSL_BIND
  functions = loaded;
  return ok_status();
}

}  // namespace

// The proxy thread uses the slots only after the supervisor's single thread opened them.
Status open_openssl() {
  static const Status opened = load();
  return opened;
}

const OpenSslFunctions& openssl() {
  return functions;
}

}  // namespace airlock::intercept
