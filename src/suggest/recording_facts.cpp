#include "suggest/recording_facts.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace airlock::suggest {
namespace {

// A count or size: JSON parsed from text gives unsigned numbers, built in code signed ones.
std::optional<uint64_t> count_of(const nlohmann::json& event, const char* name) {
  if (!event.contains(name) || !event[name].is_number_integer()) return std::nullopt;
  if (event[name].is_number_unsigned()) return event[name].get<uint64_t>();
  const int64_t value = event[name].get<int64_t>();
  return value >= 0 ? std::optional<uint64_t>(static_cast<uint64_t>(value)) : std::nullopt;
}

std::string text_of(const nlohmann::json& event, const char* name) {
  return event.contains(name) && event[name].is_string() ? event[name].get<std::string>() : "";
}

bool is_event(const nlohmann::json& event, const char* name) {
  return text_of(event, "event") == name;
}

// Quoted only when the shell would split or expand it.
std::string shell_quote(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 ||
           std::string_view("-_./:=@%+,").find(char(c)) != std::string_view::npos;
  });
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else if (c == '\n' || c == '\r') {
      quoted += ' ';  // the header is one comment line
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace

std::vector<RecordedSandbox> recorded_sandboxes(const std::vector<nlohmann::json>& events) {
  std::vector<RecordedSandbox> sandboxes;
  for (const nlohmann::json& event : events) {
    if (!is_event(event, "sandbox.start")) continue;
    RecordedSandbox sandbox;
    if (event.contains("sandbox") && event["sandbox"].is_object()) {
      sandbox.id = text_of(event["sandbox"], "id");
      sandbox.name = text_of(event["sandbox"], "name");
    }
    if (event.contains("command") && event["command"].is_array()) {
      for (const nlohmann::json& word : event["command"]) {
        if (!word.is_string()) continue;
        sandbox.command += (sandbox.command.empty() ? "" : " ") + shell_quote(word);
      }
    }
    sandbox.started = text_of(event, "time");
    sandbox.observe = text_of(event, "observe");
    sandboxes.push_back(std::move(sandbox));
  }
  return sandboxes;
}

std::vector<DnsOnlyName> dns_only_names(const std::vector<nlohmann::json>& events) {
  std::set<std::string> connected;
  std::map<std::string, DnsOnlyName> asked;
  for (const nlohmann::json& event : events) {
    if (!is_event(event, "egress.decision")) continue;
    const std::string host = text_of(event, "host");
    if (text_of(event, "via") != "dns") {
      connected.insert(host);
      continue;
    }
    DnsOnlyName& name = asked[host];
    name.name = host;
    name.questions += 1;
    const std::string type = text_of(event, "type");
    if (!type.empty() && std::find(name.types.begin(), name.types.end(), type) == name.types.end())
      name.types.push_back(type);
  }
  std::vector<DnsOnlyName> only;
  for (auto& [host, name] : asked) {
    if (connected.count(host) != 0 || host.empty()) continue;
    std::sort(name.types.begin(), name.types.end());
    only.push_back(std::move(name));
  }
  return only;
}

std::vector<DroppedDatagrams> dropped_datagrams(const std::vector<nlohmann::json>& events) {
  std::map<std::string, uint64_t> packets;
  for (const nlohmann::json& event : events) {
    if (!is_event(event, "egress.dropped")) continue;
    const std::string protocol = text_of(event, "protocol");
    std::string address = text_of(event, "address");
    if (address.find(':') != std::string::npos) address = "[" + address + "]";
    std::string destination = protocol + " " + address;
    if (std::optional<uint64_t> port = count_of(event, "port"))
      destination += ":" + std::to_string(*port);
    packets[destination] += count_of(event, "packets").value_or(1);
  }
  std::vector<DroppedDatagrams> dropped;
  dropped.reserve(packets.size());
  for (const auto& [destination, count] : packets) dropped.push_back({destination, count});
  return dropped;
}

std::vector<ExecutedProgram> executed_programs(const std::vector<nlohmann::json>& events) {
  std::map<std::string, uint64_t> counts;
  for (const nlohmann::json& event : events) {
    if (is_event(event, "process.exec")) counts[text_of(event, "path")] += 1;
  }
  std::vector<ExecutedProgram> programs;
  programs.reserve(counts.size());
  for (const auto& [path, count] : counts) programs.push_back({path, count});
  std::stable_sort(
      programs.begin(), programs.end(),
      [](const ExecutedProgram& a, const ExecutedProgram& b) { return a.count > b.count; });
  return programs;
}

std::optional<uint64_t> peak_memory_bytes(const std::vector<nlohmann::json>& events) {
  std::optional<uint64_t> peak;
  for (const nlohmann::json& event : events) {
    if (!is_event(event, "sandbox.exit")) continue;
    if (std::optional<uint64_t> bytes = count_of(event, "peak_memory_bytes"))
      peak = std::max(peak.value_or(0), *bytes);
  }
  return peak;
}

}  // namespace airlock::suggest
