// Reads the one YAML document a policy file may hold, and notices any document after it.
//
// Why not YAML::LoadAll: yaml-cpp 0.7 (Debian 12) loops forever in LoadAll, allocating a null
// node per turn, on input whose next token no rule matches (a stray ',' is enough). The fix,
// jbeder/yaml-cpp#1319, is not in Debian 12. The policy fuzzer found it within seconds.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

namespace airlock::policy {

struct FirstDocument {
  YAML::Node root;                            // null when the text holds no document
  std::optional<YAML::Mark> second_document;  // where a later document with content starts
};

// Throws YAML::Exception on input that is not YAML, including input yaml-cpp cannot consume
// (the parser would otherwise stand still on the same token).
FirstDocument read_first_document(const std::string& text);

}  // namespace airlock::policy
