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
  std::unique_ptr<RunCa> ca;  // null until issue_ca()
  TlsContexts contexts;

  // Before the sandbox is cloned: the TLS contexts, which hold nothing secret. mTLS credentials'
  // files are only checked for readability: their keys are loaded on first use, by the proxy.
  // `host_bundle` is the host's CA bundle, which issue_ca() writes out with the run CA.
  static Result<std::unique_ptr<Interception>> create(const credentials::CredentialVault& vault,
                                                      const std::optional<std::string>& upstream_ca,
                                                      std::string host_bundle);
  // After the clone, before the sandbox may start its command: makes the run CA (so that no copy
  // of its key is in the memory of the sandbox's init, a fork of the supervisor) and writes the
  // host's bundle plus its certificate into `bundle_path`, which the sandbox sees as its system
  // bundle. `label` names the run in the CA's subject.
  Status issue_ca(const std::string& label, const std::string& bundle_path);
  // The client context of an mTLS credential (made on first use; proxy thread only).
  Result<SSL_CTX*> mtls_context(const credentials::MtlsCredential& credential);

 private:
  std::string host_bundle_;
  std::map<std::string, TlsContexts::ContextPtr> mtls_;  // by credential name
  // Their sessions (the upstream context's live in `contexts`). A context points at its cache
  // only for callbacks during handshakes, which end before the run does.
  std::unique_ptr<UpstreamSessions> mtls_sessions_ = std::make_unique<UpstreamSessions>();
};

}  // namespace airlock::intercept
