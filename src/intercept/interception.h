// What TLS interception needs for one run: the run CA and the TLS contexts (sandbox side,
// upstream side, one per mTLS credential). Made before the launch plan, because the sandbox's
// trust bundle carries the CA's certificate; used by the proxy thread only afterwards.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "credentials/credential_vault.h"
#include "intercept/channel.h"
#include "intercept/run_ca.h"

namespace airlock::intercept {

struct Interception {
  std::unique_ptr<RunCa> ca;
  TlsContexts contexts;
  std::map<std::string, TlsContexts::ContextPtr> mtls;  // by credential name
  // The mTLS contexts' sessions (the upstream context's live in `contexts`). A context only
  // points at its cache for callbacks during handshakes, which end before the run does.
  std::unique_ptr<UpstreamSessions> mtls_sessions = std::make_unique<UpstreamSessions>();

  // `label` names the run in the CA's subject.
  static Result<std::unique_ptr<Interception>> create(const credentials::CredentialVault& vault,
                                                      const std::optional<std::string>& upstream_ca,
                                                      const std::string& label);
};

}  // namespace airlock::intercept
