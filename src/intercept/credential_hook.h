// The proxy's credential handling for one connection, as a RequestHeadHook: asks the vault about
// each request head, writes credential.use / credential.misuse / credential.expired, and at a
// local endpoint points the request's Host at the credential's host.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "credentials/credential_vault.h"
#include "egress/client_filter.h"

namespace airlock::intercept {

class CredentialHook final : public egress::RequestHeadHook {
 public:
  // `may_substitute`: the connection is re-originated over verified TLS by the proxy.
  // `endpoint_host`: non-empty at a local endpoint: the Host every request is sent with.
  // `process`: who holds the client socket, for misuse events (looked up only then).
  CredentialHook(credentials::CredentialVault& vault, const audit::AuditLog& audit,
                 std::string host, bool may_substitute, std::string endpoint_host,
                 std::function<nlohmann::json()> process);
  std::optional<Refusal> on_head(egress::HttpRequestHead& head) override;

 private:
  credentials::CredentialVault& vault_;
  const audit::AuditLog& audit_;
  std::string host_;
  bool may_substitute_;
  std::string endpoint_host_;
  std::function<nlohmann::json()> process_;
};

}  // namespace airlock::intercept
