#include "policy/yaml_cursor.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace airlock::policy {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Policies are text: audit events and the policy hash are JSON, which holds only UTF-8.
bool is_valid_utf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length = byte < 0x80           ? 1
                    : (byte >> 5) == 0x6  ? 2
                    : (byte >> 4) == 0xe  ? 3
                    : (byte >> 3) == 0x1e ? 4
                                          : 0;
    if (length == 0 || i + length > text.size()) return false;
    uint32_t code = length == 1 ? byte : byte & (0x7f >> length);
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    const uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < minimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
      return false;
    i += length;
  }
  return true;
}

std::string suggestion(const std::string& key, std::initializer_list<const char*> known) {
  std::string best;
  size_t best_distance = 3;  // only suggest close spellings
  for (const char* candidate : known) {
    size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string join(std::initializer_list<const char*> words) {
  std::string out;
  for (const char* word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

}  // namespace

SourceLocation YamlCursor::where(const YAML::Node& node) const {
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) return SourceLocation{file_, 1, 1};
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

void YamlCursor::fail(const YAML::Node& node, const std::string& message) const {
  fail_at(where(node), message);
}

std::string one_line(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void YamlCursor::fail_at(const SourceLocation& where, const std::string& message) const {
  // Messages quote what the user wrote; a newline in it must not break "one line per error".
  throw LoadFailure(one_line(where.to_string() + ": " + message));
}

void YamlCursor::for_each_key(
    const YAML::Node& map, const std::string& section,
    std::initializer_list<const char*> known_keys,
    const std::function<void(const std::string&, const YAML::Node&)>& visit) const {
  if (!map.IsMap())
    fail(map, section + " must be a mapping of key: value; keys: " + join(known_keys));
  std::set<std::string> seen;
  for (const auto& entry : map) {
    const YAML::Node& key_node = entry.first;
    if (!key_node.IsScalar()) fail(key_node, "keys in " + section + " must be plain words");
    const std::string key = key_node.Scalar();
    bool known = std::any_of(known_keys.begin(), known_keys.end(),
                             [&](const char* candidate) { return key == candidate; });
    if (!known) {
      std::string hint = suggestion(key, known_keys);
      fail(key_node, "unknown key '" + key + "' in " + section + "; " +
                         (hint.empty() ? "expected one of: " + join(known_keys)
                                       : "did you mean '" + hint + "'?"));
    }
    if (!seen.insert(key).second) fail(key_node, "duplicate key '" + key + "' in " + section);
    visit(key, entry.second);
  }
}

std::string YamlCursor::string(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar()) fail(node, what + " must be a single value, not a list or mapping");
  const std::string& value = node.Scalar();
  if (value.empty()) fail(node, what + " must not be empty");
  if (value.find('\0') != std::string::npos) fail(node, what + " must not contain a NUL byte");
  if (!is_valid_utf8(value)) fail(node, what + " must be valid UTF-8 text");
  return value;
}

bool YamlCursor::boolean(const YAML::Node& node, const std::string& what) const {
  const std::string text = string(node, what);
  if (text != "true" && text != "false")
    fail(node, what + " must be true or false; got '" + text + "'");
  return text == "true";
}

uint64_t YamlCursor::unsigned_integer(const YAML::Node& node, const std::string& what, uint64_t min,
                                      uint64_t max) const {
  const std::string text = string(node, what);
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    fail(node,
         what + " must be a whole number, e.g. " + std::to_string(min) + "; got '" + text + "'");
  }
  if (value < min || value > max) {
    fail(node, what + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                   "; got " + text);
  }
  return value;
}

std::vector<YAML::Node> YamlCursor::sequence(const YAML::Node& node,
                                             const std::string& what) const {
  if (node.IsNull()) return {};
  if (!node.IsSequence())
    fail(node, what + " must be a list, e.g. [a, b] or one '- item' per line");
  std::vector<YAML::Node> items;
  for (const auto& item : node) items.push_back(item);
  return items;
}

std::vector<std::string> YamlCursor::string_list(const YAML::Node& node,
                                                 const std::string& what) const {
  std::vector<std::string> values;
  for (const YAML::Node& item : sequence(node, what))
    values.push_back(string(item, what + " entry"));
  return values;
}

uint64_t YamlCursor::duration_seconds(const YAML::Node& node, const std::string& what) const {
  const std::string text = string(node, what);
  static constexpr std::pair<char, uint64_t> kUnits[] = {
      {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
  uint64_t multiplier = 1;
  std::string digits = text;
  for (const auto& [unit, seconds] : kUnits) {
    if (text.back() == unit) {
      multiplier = seconds;
      digits.pop_back();
    }
  }
  uint64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      value == 0 || value > 366ULL * 86400 / multiplier) {
    fail(node,
         what + " must be a positive duration such as 300s, 30m, 2h or 1d; got '" + text + "'");
  }
  return value * multiplier;
}

}  // namespace airlock::policy
