#include "policy/policy_json.h"

#include <openssl/evp.h>

#include <array>

#include <fmt/format.h>

namespace airlock::policy {
namespace {

nlohmann::json paths(const std::vector<PathEntry>& entries) {
  nlohmann::json out = nlohmann::json::array();
  for (const PathEntry& entry : entries) out.push_back(entry.path);
  return out;
}

nlohmann::json rules(const std::vector<NetworkRule>& entries) {
  nlohmann::json out = nlohmann::json::array();
  for (const NetworkRule& rule : entries)
    out.push_back(rule.host + ":" + std::to_string(rule.port));
  return out;
}

template <typename T>
nlohmann::json optional_value(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const Policy& policy) {
  nlohmann::json publish = nlohmann::json::array();
  for (const PublishRule& rule : policy.publish) {
    publish.push_back({{"unix", rule.unix_path},
                       {"port", rule.port},
                       {"mode", fmt::format("{:04o}", rule.mode)}});
  }
  nlohmann::json credentials = nlohmann::json::array();
  for (const CredentialRule& rule : policy.credentials) {
    credentials.push_back({{"name", rule.name},
                           {"from", rule.from},
                           {"hosts", rule.hosts},
                           {"ttl_seconds", rule.ttl_seconds}});
  }
  const ProcessPolicy& process = policy.process;
  return {
      {"version", policy.version},
      {"name", policy.name},
      {"extends", policy.extends},
      {"workspace", policy.workspace},
      {"filesystem",
       {{"read_only", paths(policy.filesystem.read_only)},
        {"read_write", paths(policy.filesystem.read_write)},
        {"hidden", paths(policy.filesystem.hidden)},
        {"protect", paths(policy.filesystem.protect)}}},
      {"network",
       {{"mode", to_string(policy.network.mode)},
        {"allow", rules(policy.network.allow)},
        {"deny", rules(policy.network.deny)},
        {"unix_sockets", paths(policy.network.unix_sockets)},
        {"internal", policy.network.deny_internal ? "deny" : "allow"},
        {"dns_upstream", policy.network.dns_upstream ? nlohmann::json(*policy.network.dns_upstream)
                                                     : nlohmann::json(nullptr)},
        {"max_connections", policy.network.max_connections}}},
      {"publish", publish},
      {"process",
       {{"syscalls", process.syscalls.use_default ? nlohmann::json("default")
                                                  : nlohmann::json(process.syscalls.allow)},
        {"max_memory_mb", optional_value(process.max_memory_mb)},
        {"max_pids", optional_value(process.max_pids)},
        {"max_open_files", optional_value(process.max_open_files)},
        {"timeout_seconds", optional_value(process.timeout_seconds)}}},
      {"credentials", credentials},
      {"credential_ttl_seconds", optional_value(policy.credential_ttl_seconds)},
      {"audit", {{"path", optional_value(policy.audit_path)}}},
  };
}

std::string policy_sha256(const Policy& policy) {
  const std::string canonical = to_json(policy).dump();  // keys sorted: nlohmann orders objects
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(canonical.data(), canonical.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace airlock::policy
