// Libraries that only some runs need (nftables for egress capture, libidn2 for international
// host names) are opened when first needed rather than linked: every library mapped at start-up
// costs every `airlock run` its relocations and page faults (issue 2's start-up target).
// A library, once opened, stays loaded for the life of the process; it is never closed.
#pragma once

#include <string>

#include "common/result.h"

namespace airlock {

class SharedLibrary {
 public:
  // `soname` as the Debian package installs it, e.g. "libnftables.so.1"; `package` names that
  // package for the error message.
  static Result<SharedLibrary> open(const char* soname, const char* package);

  // Points `*slot` at the function `name`; the slot's type is the header's own declaration:
  //   decltype(&nft_ctx_new) ctx_new;  library.bind("nft_ctx_new", &ctx_new);
  template <typename Function>
  Status bind(const char* name, Function** slot) const {
    Result<void*> address = symbol(name);
    if (!address) return address.error();
    *slot = reinterpret_cast<Function*>(*address);
    return ok_status();
  }

 private:
  SharedLibrary(void* handle, std::string soname) : handle_(handle), soname_(std::move(soname)) {}
  Result<void*> symbol(const char* name) const;

  void* handle_;
  std::string soname_;
};

}  // namespace airlock
