// The text behind a loaded policy's source locations, for what the loader's YAML parser drops:
// comments. A rule "has a comment" when its line carries one or the line above is one, which is
// how the built-in profiles explain every host they allow.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace airlock::lint {

class PolicySources {
 public:
  // True when `where`'s line has a `#` comment, or the line right above is a comment line.
  // Files are read on first use; "<profile NAME>" is an embedded profile's text.
  bool has_comment(const policy::SourceLocation& where) const;

 private:
  const std::vector<std::string>& lines(const std::string& file) const;
  mutable std::map<std::string, std::vector<std::string>> cache_;
};

}  // namespace airlock::lint
