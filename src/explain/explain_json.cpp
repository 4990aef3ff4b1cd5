#include "explain/explain_json.h"

namespace airlock::explain {
namespace {

nlohmann::json optional_text(const std::optional<std::string>& text) {
  return text ? nlohmann::json(*text) : nlohmann::json(nullptr);
}

nlohmann::json host_json(const HostSupport& host) {
  return {
      {"description", host.probed ? "probed" : "fixed"},
      {"uid", host.uid},
      {"gid", host.gid},
      {"root", host.root},
      {"landlock_abi", host.landlock_abi},
      {"memory_cgroup", optional_text(host.memory.layer)},
      {"pids_cgroup", optional_text(host.pids.layer)},
      {"user_namespaces", host.user_namespace_problem.empty()},
      {"open_files_hard_limit", host.open_files_hard_limit == 0
                                    ? nlohmann::json(nullptr)
                                    : nlohmann::json(host.open_files_hard_limit)},
  };
}

nlohmann::json row_json(const CapabilityRow& row) {
  nlohmann::json layers = nlohmann::json::array();
  for (Layer layer : row.layers) layers.push_back(to_string(layer));
  return {
      {"capability", row.capability},
      {"verdict", to_string(row.verdict)},
      {"targets", row.targets},
      {"scope", row.scope},
      {"layers", layers},
      {"not_enforced", row.not_enforced},
      {"source", row.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(row.source)},
  };
}

}  // namespace

nlohmann::json to_json(const CapabilityTable& table) {
  nlohmann::json rows = nlohmann::json::array();
  for (const CapabilityRow& row : table.rows) rows.push_back(row_json(row));
  return {
      {"schema", kSchemaVersion},
      {"policy",
       {{"name", table.policy_name},
        {"source", table.policy_source},
        {"sha256", table.policy_sha256}}},
      {"host", host_json(table.host)},
      {"run", {{"refused", !table.run_refusals.empty()}, {"reasons", table.run_refusals}}},
      {"rows", rows},
  };
}

}  // namespace airlock::explain
