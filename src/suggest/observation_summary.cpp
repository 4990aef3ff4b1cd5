#include "suggest/observation_summary.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "suggest/connection_attempts.h"
#include "suggest/learned_rules.h"
#include "suggest/recording_facts.h"

namespace airlock::suggest {
namespace {

struct Row {
  std::string destination;
  std::string port;
  std::string tries;
  std::string via;
  std::string decision;
  std::string programs;
};

struct Tally {
  uint64_t allowed = 0;
  uint64_t denied = 0;
  std::set<std::string> vias;
  ProgramCounts programs;
};

std::string decision_text(const Tally& tally) {
  if (tally.denied == 0) return "allowed";
  if (tally.allowed == 0) return "denied";
  return fmt::format("allowed {}, denied {}", tally.allowed, tally.denied);
}

std::string table(const std::vector<Row>& rows) {
  size_t w[5] = {0, 0, 0, 0, 0};
  for (const Row& row : rows) {
    w[0] = std::max(w[0], row.destination.size());
    w[1] = std::max(w[1], row.port.size());
    w[2] = std::max(w[2], row.tries.size());
    w[3] = std::max(w[3], row.via.size());
    w[4] = std::max(w[4], row.decision.size());
  }
  std::string out;
  for (const Row& row : rows) {
    out += fmt::format("  {:<{}}  {:>{}}  {:>{}}  {:<{}}  {:<{}}  {}\n", row.destination, w[0],
                       row.port, w[1], row.tries, w[2], row.via, w[3], row.decision, w[4],
                       row.programs);
  }
  return out;
}

std::string connections(const std::vector<nlohmann::json>& events) {
  std::map<std::pair<std::string, uint16_t>, Tally> tallies;
  for (const ConnectionAttempt& attempt : connection_attempts(events)) {
    Tally& tally = tallies[{attempt.host, attempt.port}];
    (attempt.allowed ? tally.allowed : tally.denied) += 1;
    if (!attempt.via.empty()) tally.vias.insert(attempt.via);
    tally.programs[attempt.program] += 1;
  }
  if (tallies.empty()) return "airlock observe: no connection attempts\n";
  std::vector<Row> rows = {{"destination", "port", "tries", "via", "decision", "programs"}};
  for (const auto& [key, tally] : tallies) {
    const std::string& host = key.first;
    rows.push_back({host.find(':') != std::string::npos ? "[" + host + "]" : host,
                    std::to_string(key.second), std::to_string(tally.allowed + tally.denied),
                    fmt::format("{}", fmt::join(tally.vias, ",")), decision_text(tally),
                    describe_programs(tally.programs)});
  }
  return "airlock observe: connection attempts\n" + table(rows);
}

}  // namespace

std::string observation_summary(const std::vector<nlohmann::json>& events) {
  std::string out = connections(events);
  const std::vector<DnsOnlyName> dns_only = dns_only_names(events);
  if (!dns_only.empty()) {
    out += "asked in DNS only, never connected to:\n";
    for (const DnsOnlyName& name : dns_only) {
      out += fmt::format("  {} ({}) x{}\n", name.name, fmt::join(name.types, ", "), name.questions);
    }
  }
  const std::vector<DroppedDatagrams> dropped = dropped_datagrams(events);
  if (!dropped.empty()) {
    out += "dropped datagrams (a policy cannot allow them):\n";
    for (const DroppedDatagrams& datagrams : dropped)
      out += fmt::format("  {} x{} packets\n", datagrams.destination, datagrams.packets);
  }
  const std::vector<ExecutedProgram> programs = executed_programs(events);
  if (!programs.empty()) {
    out += "programs executed:\n";
    for (const ExecutedProgram& program : programs)
      out += fmt::format("  {:>5}  {}\n", program.count, program.path);
  }
  return out;
}

}  // namespace airlock::suggest
