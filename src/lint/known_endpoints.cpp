#include "lint/known_endpoints.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace airlock::lint {
namespace {

const std::vector<std::string> kKinds = {"telemetry", "analytics", "error-reporting", "tracing",
                                         "vector-db"};

// A field every entry must have, as a non-empty string.
std::string required(const YAML::Node& entry, const char* key, const std::string& what) {
  if (!entry.IsMap()) throw std::runtime_error(what + " is not a mapping");
  const YAML::Node value = entry[key];
  // IsDefined() first: a missing key of a const node is a "zombie" that throws on other calls.
  if (!value.IsDefined() || !value.IsScalar() || value.Scalar().empty()) {
    throw std::runtime_error(what + " (line " + std::to_string(entry.Mark().line + 1) +
                             ") has no '" + key + "'");
  }
  return value.Scalar();
}

KnownHosts parse(std::string_view text) {
  const YAML::Node root = YAML::Load(std::string(text));
  KnownHosts hosts;
  for (const YAML::Node& entry : root["shared_tenant_suffixes"]) {
    const std::string what = "a shared_tenant_suffixes entry";
    hosts.shared_tenant_suffixes.push_back({required(entry, "suffix", what),
                                            required(entry, "why", what),
                                            required(entry, "source", what)});
  }
  for (const YAML::Node& entry : root["endpoints"]) {
    const std::string what = "an endpoints entry";
    KnownEndpoint endpoint{required(entry, "host", what), required(entry, "kind", what),
                           required(entry, "why", what), required(entry, "source", what)};
    if (std::find(kKinds.begin(), kKinds.end(), endpoint.kind) == kKinds.end()) {
      throw std::runtime_error("endpoint " + endpoint.host + " has unknown kind '" + endpoint.kind +
                               "'");
    }
    hosts.endpoints.push_back(std::move(endpoint));
  }
  if (hosts.shared_tenant_suffixes.empty() || hosts.endpoints.empty()) {
    throw std::runtime_error("needs shared_tenant_suffixes: and endpoints: lists");
  }
  return hosts;
}

}  // namespace

Result<KnownHosts> parse_known_hosts(std::string_view text) {
  try {
    return parse(text);
  } catch (const std::exception& failure) {
    return Error{std::string("known endpoints data: ") + failure.what()};
  }
}

Result<const KnownHosts*> known_hosts() {
  static std::once_flag once;
  static std::optional<Result<KnownHosts>> parsed;
  std::call_once(once, [] { parsed.emplace(parse_known_hosts(known_endpoints_text())); });
  if (!*parsed) return parsed->error();
  return &**parsed;
}

}  // namespace airlock::lint
