// What a recording says besides connection attempts: which sandboxes ran what, names only
// asked in DNS, datagrams dropped, programs executed, peak memory. Shared by the suggestion's
// comments and observe's table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace airlock::suggest {

struct RecordedSandbox {
  std::string id;
  std::string name;
  std::string command;  // shell-quoted
  std::string started;  // the event's time
  std::string observe;  // "deny", "forward", or "" for a plain run
};
std::vector<RecordedSandbox> recorded_sandboxes(const std::vector<nlohmann::json>& events);

// Names asked in DNS that no connection attempt names, with the record types asked.
struct DnsOnlyName {
  std::string name;
  std::vector<std::string> types;  // sorted, unique
  uint64_t questions = 0;
};
std::vector<DnsOnlyName> dns_only_names(const std::vector<nlohmann::json>& events);

struct DroppedDatagrams {
  std::string destination;  // "udp 8.8.8.8:53", "icmp 1.1.1.1"
  uint64_t packets = 0;
};
std::vector<DroppedDatagrams> dropped_datagrams(const std::vector<nlohmann::json>& events);

struct ExecutedProgram {
  std::string path;
  uint64_t count = 0;
};
// Most executed first, then by path.
std::vector<ExecutedProgram> executed_programs(const std::vector<nlohmann::json>& events);

// The largest peak_memory_bytes of any sandbox.exit; nullopt when none recorded one.
std::optional<uint64_t> peak_memory_bytes(const std::vector<nlohmann::json>& events);

}  // namespace airlock::suggest
