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

  // `label` names the run in the CA's subject. mTLS credentials' files are only checked for
  // readability here: their keys are loaded on first use, by the proxy, after the sandbox's
  // init was cloned, so no copy of them is in its memory.
  static Result<std::unique_ptr<Interception>> create(const credentials::CredentialVault& vault,
                                                      const std::optional<std::string>& upstream_ca,
                                                      const std::string& label);
  // The client context of an mTLS credential (made on first use; proxy thread only).
  Result<SSL_CTX*> mtls_context(const credentials::MtlsCredential& credential);

 private:
  std::map<std::string, TlsContexts::ContextPtr> mtls_;  // by credential name
  // Their sessions (the upstream context's live in `contexts`). A context points at its cache
  // only for callbacks during handshakes, which end before the run does.
  std::unique_ptr<UpstreamSessions> mtls_sessions_ = std::make_unique<UpstreamSessions>();
};

}  // namespace airlock::intercept
