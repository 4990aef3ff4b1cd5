#include "suggest/policy_suggestion.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include <fmt/format.h>

#include "policy/default_policy.h"
#include "suggest/connection_attempts.h"
#include "suggest/learned_rules.h"
#include "suggest/recording_facts.h"
#include "suggest/suggestion_base.h"

namespace airlock::suggest {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kMemoryStepMiB = 256;
constexpr uint64_t kMemoryFloorMiB = 512;

// Comments are single lines whatever a reason or a label held.
std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

std::string indented(const std::string& text, size_t spaces) {
  std::string out;
  const std::string pad(spaces, ' ');
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += pad + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

// `key: value` as yaml-cpp writes it (block style), indented.
std::string emit_entry(const std::string& key, const YAML::Node& value, size_t spaces) {
  YAML::Emitter emitter;
  emitter << YAML::BeginMap << YAML::Key << key << YAML::Value << value << YAML::EndMap;
  return indented(emitter.c_str(), spaces);
}

// The base file's `key` section; nullopt for a profile base or a file without it. (yaml-cpp
// throws on any use but IsDefined() of a missing key's node.)
std::optional<YAML::Node> section_of(const SuggestionBase& base, const char* key) {
  if (!base.from_file) return std::nullopt;
  YAML::Node node = base.document[key];
  if (!node.IsDefined()) return std::nullopt;
  return node;
}

std::string emit_flow(const YAML::Node& value) {
  YAML::Emitter emitter;
  emitter << YAML::Flow << value;
  return emitter.c_str();
}

// "*.x:443" and "[::1]:443" would not be plain YAML scalars.
std::string rule_scalar(const std::string& text) {
  return text.front() == '*' || text.front() == '[' ? "\"" + text + "\"" : text;
}

// max(512, 2 x peak rounded up to 256 MiB): room to grow without letting a runaway take the
// host; the recording shows one run, not the worst one.
uint64_t suggested_memory_mib(std::optional<uint64_t> peak_bytes) {
  if (!peak_bytes) return kMemoryFloorMiB;
  const uint64_t doubled = (2 * *peak_bytes + kMiB - 1) / kMiB;
  const uint64_t rounded = (doubled + kMemoryStepMiB - 1) / kMemoryStepMiB * kMemoryStepMiB;
  return std::max(kMemoryFloorMiB, rounded);
}

std::string header(const std::vector<nlohmann::json>& events, const SuggestOptions& options,
                   const SuggestionBase& base, const LearnedRules& learned) {
  std::string out = "# Suggested by airlock";
  if (!options.recordings.empty()) {
    out += " suggest from";
    for (const std::string& file : options.recordings) out += " " + one_line(file);
  } else {
    out += " observe";
  }
  out += "\n";
  for (const RecordedSandbox& sandbox : recorded_sandboxes(events)) {
    out += one_line(fmt::format("# sandbox {} ({}{}) started {}: {}", sandbox.id, sandbox.name,
                                sandbox.observe.empty() ? "" : ", observe " + sandbox.observe,
                                sandbox.started, sandbox.command)) +
           "\n";
  }
  out += "# base: " + one_line(base.label);
  if (base.from_file) out += " (copied through yaml-cpp: its comments are not kept)";
  out += "\n# Only what the recording shows: exact names and ports";
  if (options.collapse) {
    out += fmt::format(", {} or more sibling names under one registrable domain as *.parent",
                       *options.collapse);
  }
  out += ". Review every rule before use.\n";
  if (learned.already_allowed > 0) {
    out +=
        fmt::format("# {} attempt(s) were already allowed by the base.\n", learned.already_allowed);
  }
  return out;
}

std::string allow_list(const SuggestionBase& base, const LearnedRules& learned) {
  std::string out = "  allow:\n";
  const std::optional<YAML::Node> network = section_of(base, "network");
  if (network && network->IsMap() && (*network)["allow"].IsDefined() &&
      (*network)["allow"].IsSequence() && (*network)["allow"].size() > 0) {
    out += "    # from the base policy " + one_line(base.label) + "\n";
    for (const YAML::Node& rule : (*network)["allow"]) out += "    - " + emit_flow(rule) + "\n";
  }
  for (const LearnedRule& rule : learned.rules) {
    if (rule.flag) out += "    # " + one_line(*rule.flag) + "\n";
    out += "    # " + one_line(describe_programs(rule.programs)) + "\n";
    out += "    - " + rule_scalar(rule.text()) + "\n";
  }
  return out;
}

std::string network_section(const SuggestionBase& base, const LearnedRules& learned) {
  const std::optional<YAML::Node> network = section_of(base, "network");
  if (learned.rules.empty()) return network ? emit_entry("network", *network, 0) : "";
  std::string out = "network:\n  mode: allowlist\n";
  if (network && network->IsMap()) {
    for (const auto& entry : *network) {
      const std::string key = entry.first.as<std::string>();
      if (key != "mode" && key != "allow") out += emit_entry(key, entry.second, 2);
    }
  }
  return out + allow_list(base, learned);
}

std::string process_section(const SuggestionBase& base, std::optional<uint64_t> peak_bytes) {
  const std::optional<YAML::Node> process = section_of(base, "process");
  const policy::ProcessPolicy& limits = base.resolved.process;
  if (limits.max_memory_mb && limits.max_pids) {
    return process ? emit_entry("process", *process, 0) : "";
  }
  std::string out = "process:\n";
  if (process && process->IsMap()) {
    for (const auto& entry : *process)
      out += emit_entry(entry.first.as<std::string>(), entry.second, 2);
  }
  if (!limits.max_memory_mb) {
    out += peak_bytes ? fmt::format(
                            "  # 2 x the observed peak ({} MiB), rounded up to {} MiB, at "
                            "least {} MiB\n",
                            (*peak_bytes + kMiB - 1) / kMiB, kMemoryStepMiB, kMemoryFloorMiB)
                      : fmt::format("  # no peak in the recording: {} MiB\n", kMemoryFloorMiB);
    out += "  # airlock run enforces it in a memory cgroup (root, or a delegated cgroup v2)\n";
    out += fmt::format("  max_memory_mb: {}\n", suggested_memory_mib(peak_bytes));
  }
  if (!limits.max_pids) {
    // A base with `extends: []` loses the default profile's limit; a fork bomb would not.
    out += fmt::format("  # the default profile's limit (the base has none)\n  max_pids: {}\n",
                       policy::compiled_default_policy().process.max_pids.value_or(4096));
  }
  return out;
}

std::string body(const SuggestionBase& base, const LearnedRules& learned,
                 std::optional<uint64_t> peak_bytes) {
  std::string out = "version: 1\n";
  if (!base.from_file) {
    out += "name: suggested\nextends: [" + base.profile + "]\n";
  } else {
    out += emit_entry("name", base.document["name"], 0);
    for (const auto& entry : base.document) {
      const std::string key = entry.first.as<std::string>();
      if (key != "version" && key != "name" && key != "network" && key != "process")
        out += emit_entry(key, entry.second, 0);
    }
  }
  return out + network_section(base, learned) + process_section(base, peak_bytes);
}

std::string trailer(const std::vector<nlohmann::json>& events, const LearnedRules& learned) {
  std::string out;
  if (!learned.unlearned.empty()) {
    out += "\n# Seen and not allowed:\n";
    for (const UnlearnedDestination& entry : learned.unlearned) {
      out += one_line(fmt::format("#   {} ({}): {}", entry.destination,
                                  describe_programs(entry.programs), entry.why)) +
             "\n";
    }
  }
  const std::vector<DnsOnlyName> dns_only = dns_only_names(events);
  if (!dns_only.empty()) {
    out += "\n# Asked in DNS, never connected to (no rule needed):\n";
    for (const DnsOnlyName& name : dns_only) {
      out += one_line(fmt::format("#   {} ({}) x{}", name.name, fmt::join(name.types, ", "),
                                  name.questions)) +
             "\n";
    }
  }
  const std::vector<DroppedDatagrams> dropped = dropped_datagrams(events);
  if (!dropped.empty()) {
    out += "\n# Seen, cannot be allowed (a policy allows TCP through the proxy only):\n";
    for (const DroppedDatagrams& datagrams : dropped) {
      out += one_line(fmt::format("#   {} x{} packets", datagrams.destination, datagrams.packets)) +
             "\n";
    }
  }
  return out;
}

}  // namespace

Result<std::string> suggest_policy(const std::vector<nlohmann::json>& events,
                                   const SuggestOptions& options) {
  if (options.collapse && *options.collapse < 2) {
    return Error{"--collapse " + std::to_string(*options.collapse) +
                 ": needs 2 or more (one name is never a wildcard)"};
  }
  Result<SuggestionBase> base = load_suggestion_base(options.base);
  if (!base) return base.error();
  Result<LearnedRules> learned =
      learn_rules(connection_attempts(events), base->resolved.network, options.collapse);
  if (!learned) return learned.error();
  try {
    return header(events, options, *base, *learned) +
           body(*base, *learned, peak_memory_bytes(events)) + trailer(events, *learned);
  } catch (const YAML::Exception& failure) {
    return Error{base->label + ": cannot copy the base policy: " + failure.msg};
  }
}

}  // namespace airlock::suggest
