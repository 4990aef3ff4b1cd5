#include "explain/explain_text.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vector>

namespace airlock::explain {
namespace {

constexpr size_t kCapabilityWidth = 30;
constexpr size_t kVerdictWidth = 8;
constexpr size_t kIndent = kCapabilityWidth + kVerdictWidth + 2;
constexpr size_t kLineWidth = 100;

// `text` broken at spaces into lines of at most kLineWidth columns, each after `first` (on the
// first line) or kIndent spaces; a word longer than a line stands alone.
std::string wrapped(const std::string& first, const std::string& text) {
  std::string out = first;
  size_t column = first.size();
  size_t start = 0;
  bool line_empty = true;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    if (!line_empty && column + 1 + word.size() > kLineWidth) {
      out += "\n" + std::string(kIndent, ' ');
      column = kIndent;
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    line_empty = false;
  }
  return out + "\n";
}

std::string continuation(const std::string& text) {
  return wrapped(std::string(kIndent, ' '), text);
}

std::string host_line(const HostSupport& host) {
  std::string who =
      host.root ? "root (the agent runs as uid 65534)" : fmt::format("uid {} (not root)", host.uid);
  return fmt::format(
      "host ({}): {}; Landlock {}; memory cgroup: {}; pids cgroup: {}; user namespaces: {}\n",
      host.probed ? "probed" : "fixed description, AIRLOCK_EXPLAIN_HOST=fixed", who,
      host.landlock_abi > 0 ? fmt::format("ABI {}", host.landlock_abi) : "absent",
      host.memory.layer.value_or("none"), host.pids.layer.value_or("none"),
      host.user_namespace_problem.empty() ? "yes" : "no");
}

std::string row_text(const CapabilityRow& row) {
  std::string targets = row.targets.empty() ? "-" : fmt::format("{}", fmt::join(row.targets, " "));
  std::string out = wrapped(fmt::format("{:<{}}{:<{}}  ", row.capability, kCapabilityWidth,
                                        to_string(row.verdict), kVerdictWidth),
                            targets);
  out += continuation(row.scope);
  std::vector<std::string> layers;
  for (Layer layer : row.layers) layers.emplace_back(to_string(layer));
  out +=
      continuation("enforced by: " + (layers.empty() ? std::string("nothing")
                                                     : fmt::format("{}", fmt::join(layers, ", "))));
  for (const std::string& gap : row.not_enforced) out += continuation("NOT ENFORCED HERE: " + gap);
  if (!row.source.empty()) out += continuation("from " + row.source);
  return out;
}

}  // namespace

std::string to_text(const CapabilityTable& table) {
  std::string out = fmt::format("policy '{}' ({}), sha256 {}\n", table.policy_name,
                                table.policy_source, table.policy_sha256);
  out += host_line(table.host);
  if (table.run_refusals.empty()) {
    out += "airlock run: would run this policy here\n";
  } else {
    out += "airlock run: would refuse this policy here:\n";
    for (const std::string& reason : table.run_refusals) out += "  " + reason + "\n";
  }
  out += fmt::format("\n{:<{}}{:<{}}  TARGETS, then scope, layers, gaps\n", "CAPABILITY",
                     kCapabilityWidth, "VERDICT", kVerdictWidth);
  for (const CapabilityRow& row : table.rows) out += row_text(row);
  return out;
}

}  // namespace airlock::explain
