#include "lint/policy_source.h"

#include <optional>
#include <string_view>

#include "common/file_io.h"
#include "policy/profiles.h"

namespace airlock::lint {
namespace {

// The text of a location's file: an embedded profile, or the file on disk.
std::optional<std::string> source_text(const std::string& file) {
  const std::string_view prefix = "<profile ";
  if (file.rfind(prefix, 0) == 0 && file.back() == '>') {
    std::optional<std::string_view> text = policy::builtin_profile_text(
        std::string_view(file).substr(prefix.size(), file.size() - prefix.size() - 1));
    if (text) return std::string(*text);
    return std::nullopt;
  }
  Result<std::string> text = read_file(file);
  if (!text) return std::nullopt;
  return *text;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// YAML starts a comment at '#' at the start of a line or after a space (YAML 1.2, 6.6); rule
// values (hosts, paths, names) never contain one, so no quote tracking is needed.
bool carries_comment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) return true;
  }
  return false;
}

bool is_comment_line(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] == '#';
}

// "    - " for a block sequence item line, "" for any other line.
std::string sequence_item_prefix(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos || line.substr(first, 2) != "- ") return "";
  return std::string(line.substr(0, first + 2));
}

}  // namespace

const std::vector<std::string>& PolicySources::lines(const std::string& file) const {
  auto found = cache_.find(file);
  if (found != cache_.end()) return found->second;
  std::optional<std::string> text = source_text(file);
  // An unreadable source has no lines, so nothing in it counts as commented.
  return cache_.emplace(file, text ? split_lines(*text) : std::vector<std::string>{}).first->second;
}

bool PolicySources::has_comment(const policy::SourceLocation& where) const {
  if (where.line <= 0) return false;
  const std::vector<std::string>& text = lines(where.file);
  const auto index = static_cast<size_t>(where.line - 1);
  if (index >= text.size()) return false;
  if (carries_comment(text[index])) return true;
  // A comment above a run of list items explains the run: "# Datadog intake:\n - a\n - b".
  const std::string item_prefix = sequence_item_prefix(text[index]);
  for (size_t above = index; above > 0; --above) {
    const std::string& line = text[above - 1];
    if (is_comment_line(line)) return true;
    if (item_prefix.empty() || line.rfind(item_prefix, 0) != 0) return false;
  }
  return false;
}

}  // namespace airlock::lint
