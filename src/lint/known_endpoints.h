// The hosts check knows about, from data/known_endpoints.yaml (embedded at build time): suffixes
// under which anyone can get a name, and the telemetry, analytics, tracing and vector-database
// hosts SDKs send data to. Each entry carries why it is listed and the document that shows it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace airlock::lint {

struct SharedTenantSuffix {
  std::string suffix;  // e.g. "amazonaws.com"
  std::string why;
  std::string source;
};

struct KnownEndpoint {
  std::string host;  // exact name or "*.suffix"
  std::string kind;  // telemetry, analytics, error-reporting, tracing, vector-db
  std::string why;
  std::string source;
};

struct KnownHosts {
  std::vector<SharedTenantSuffix> shared_tenant_suffixes;
  std::vector<KnownEndpoint> endpoints;
};

// The embedded YAML text (generated/known_endpoints_text.cpp).
std::string_view known_endpoints_text();

// Parses YAML text in the format of data/known_endpoints.yaml; errors name the entry.
Result<KnownHosts> parse_known_hosts(std::string_view text);

// The embedded list, parsed once.
Result<const KnownHosts*> known_hosts();

}  // namespace airlock::lint
