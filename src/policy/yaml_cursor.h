// Typed, located access to a YAML document. Every accessor either returns a value or throws
// LoadFailure carrying "FILE:LINE:COL: message"; load_policy_text turns that into an Error.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace airlock::policy {

struct LoadFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Escapes newlines and other control characters so an error stays on one line.
std::string one_line(const std::string& text);

class YamlCursor {
 public:
  explicit YamlCursor(std::string file_name) : file_(std::move(file_name)) {}

  SourceLocation where(const YAML::Node& node) const;
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const;
  [[noreturn]] void fail_at(const SourceLocation& where, const std::string& message) const;

  // Calls visit(key, value) for each entry of a mapping; rejects duplicate and unknown keys.
  void for_each_key(const YAML::Node& map, const std::string& section,
                    std::initializer_list<const char*> known_keys,
                    const std::function<void(const std::string&, const YAML::Node&)>& visit) const;

  std::string string(const YAML::Node& node, const std::string& what) const;
  uint64_t unsigned_integer(const YAML::Node& node, const std::string& what, uint64_t min,
                            uint64_t max) const;
  bool boolean(const YAML::Node& node, const std::string& what) const;  // true or false only
  std::vector<YAML::Node> sequence(const YAML::Node& node, const std::string& what) const;
  std::vector<std::string> string_list(const YAML::Node& node, const std::string& what) const;
  // "300", "300s", "5m", "2h", "1d" -> seconds.
  uint64_t duration_seconds(const YAML::Node& node, const std::string& what) const;

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

}  // namespace airlock::policy
