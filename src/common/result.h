// Errors are values: every fallible step returns Result<T>, whose error says what
// failed and why in one line a user can act on. No exceptions cross module edges.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace airlock {

struct Error {
  std::string message;  // one line: "<what failed>: <cause>"
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// For steps that produce nothing but may fail.
struct Done {};
using Status = Result<Done>;
inline Status ok_status() {
  return Done{};
}

}  // namespace airlock
