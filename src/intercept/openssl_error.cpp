#include "intercept/openssl_error.h"

// Last, in a block of its own: OpenSSL's functions become the slots of its dlopen table.
#include "intercept/openssl_library.h"

namespace airlock::intercept {

std::string openssl_error_text(const std::string& what) {
  std::string text = what;
  unsigned long code = 0;
  bool first = true;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += first ? ": " : "; ";
    text += buffer;
    first = false;
  }
  return text;
}

}  // namespace airlock::intercept
