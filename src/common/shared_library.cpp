#include "common/shared_library.h"

#include <dlfcn.h>

namespace airlock {
namespace {

std::string last_dl_error() {
  const char* text = ::dlerror();
  return text != nullptr ? text : "unknown dynamic loader error";
}

}  // namespace

Result<SharedLibrary> SharedLibrary::open(const char* soname, const char* package) {
  // RTLD_NOW: a missing symbol is found here, as one error, not as a crash on first call.
  void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return Error{std::string("cannot load ") + soname + " (install the Debian package " + package +
                 "): " + last_dl_error()};
  }
  return SharedLibrary(handle, soname);
}

Result<void*> SharedLibrary::symbol(const char* name) const {
  ::dlerror();  // forget any earlier error, so the one reported is this lookup's
  void* address = ::dlsym(handle_, name);
  if (address == nullptr) {
    return Error{"cannot find " + std::string(name) + " in " + soname_ + ": " + last_dl_error()};
  }
  return address;
}

}  // namespace airlock
