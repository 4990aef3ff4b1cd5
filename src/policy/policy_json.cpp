#include "policy/policy_json.h"

#include <nettle/sha2.h>

#include <array>

#include <fmt/format.h>

namespace airlock::policy {
namespace {

nlohmann::json paths(const std::vector<PathEntry>& entries) {
  nlohmann::json out = nlohmann::json::array();
  for (const PathEntry& entry : entries) out.push_back(entry.path);
  return out;
}

// A path, or {path, create} for one airlock creates when missing.
nlohmann::json read_write_paths(const std::vector<PathEntry>& entries) {
  nlohmann::json out = nlohmann::json::array();
  for (const PathEntry& entry : entries) {
    if (entry.create == CreateMissing::no) {
      out.push_back(entry.path);
    } else {
      out.push_back({{"path", entry.path},
                     {"create", entry.create == CreateMissing::file ? "file" : "directory"}});
    }
  }
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
    publish.push_back(
        {{"unix", rule.unix_path},
         {"port", rule.port == 0 ? nlohmann::json(nullptr) : nlohmann::json(rule.port)},
         {"mode", fmt::format("{:04o}", rule.mode)},
         {"uids", rule.uids}});
  }
  nlohmann::json credentials = nlohmann::json::array();
  for (const CredentialRule& rule : policy.credentials) {
    if (rule.type == CredentialType::mtls) {
      credentials.push_back({{"name", rule.name},
                             {"type", "mtls"},
                             {"host", rule.host + ":" + std::to_string(rule.port)},
                             {"cert", rule.cert},
                             {"key", rule.key},
                             {"ca", rule.ca}});
      continue;
    }
    credentials.push_back(
        {{"name", rule.name},
         {"type", "header"},
         {"from", rule.from},
         {"hosts", rule.hosts},
         {"ttl_seconds", rule.ttl_seconds},
         {"max_uses", rule.max_uses},
         {"endpoint", {{"env", rule.endpoint_variable}, {"path", rule.endpoint_path}}}});
  }
  nlohmann::json set = nlohmann::json::object();
  for (const EnvironmentVariable& variable : policy.process.env.set)
    set[variable.name] = variable.value;
  const ProcessPolicy& process = policy.process;
  return {
      {"version", policy.version},
      {"name", policy.name},
      {"description", policy.description},
      {"extends", policy.extends},
      {"workspace", policy.workspace},
      {"filesystem",
       {{"read_only", paths(policy.filesystem.read_only)},
        {"read_write", read_write_paths(policy.filesystem.read_write)},
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
        {"max_connections", policy.network.max_connections},
        {"upstream_ca", optional_value(policy.network.upstream_ca)}}},
      {"publish", publish},
      {"process",
       {{"syscalls", process.syscalls.use_default ? nlohmann::json("default")
                                                  : nlohmann::json(process.syscalls.allow)},
        {"env", {{"pass", process.env.pass}, {"set", set}}},
        {"max_memory_mb", optional_value(process.max_memory_mb)},
        {"max_pids", optional_value(process.max_pids)},
        {"max_open_files", optional_value(process.max_open_files)},
        {"timeout_seconds", optional_value(process.timeout_seconds)}}},
      {"credentials", credentials},
      {"credential_ttl_seconds", optional_value(policy.credential_ttl_seconds)},
      {"audit", {{"path", optional_value(policy.audit_path)}}},
  };
}

// Nettle rather than OpenSSL's EVP: a one-shot SHA-256 that needs no library initialisation,
// configuration file or providers, which cost every `airlock run` about 60 page faults.
std::string policy_sha256(const Policy& policy) {
  const std::string canonical = to_json(policy).dump();  // keys sorted: nlohmann orders objects
  sha256_ctx context{};
  sha256_init(&context);
  sha256_update(&context, canonical.size(), reinterpret_cast<const uint8_t*>(canonical.data()));
  std::array<uint8_t, SHA256_DIGEST_SIZE> digest{};
  sha256_digest(&context, digest.size(), digest.data());
  std::string hex;
  for (uint8_t byte : digest) hex += fmt::format("{:02x}", byte);
  return hex;
}

}  // namespace airlock::policy
