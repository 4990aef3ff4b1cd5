// The run's credentials, held by the supervisor only: each real value, the placeholder the
// sandbox gets instead, the hosts where the real value may be used, and what is left of its
// lifetime. The egress proxy asks it about every request head it can read.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "credentials/stream_redactor.h"
#include "policy/policy.h"
#include "wire/http_request.h"

namespace airlock::credentials {

struct HeaderCredential {
  std::string name;
  std::string real;  // never written anywhere: not to the audit log, stderr or the sandbox
  std::string placeholder;
  std::vector<std::string> hosts;
  std::optional<std::chrono::steady_clock::time_point> expires;
  uint64_t max_uses = 0;  // 0: unlimited
  uint64_t uses = 0;
  std::string endpoint_variable;  // local endpoint, when the policy asks for one
  std::string endpoint_path;
  uint16_t endpoint_port = 0;
};

struct MtlsCredential {
  std::string name;
  std::string host;
  uint16_t port = 0;
  std::string cert, key, ca;  // host paths, read by the proxy only
};

// What one request head did with the credentials.
struct HeadCheck {
  enum class Outcome { untouched, substituted, misuse, expired };
  Outcome outcome = Outcome::untouched;
  std::vector<std::string> used;  // names substituted (outcome substituted)
  std::string credential;         // misuse / expired: which one
  std::string reason;             // misuse / expired: one line, never the value
};

inline constexpr uint16_t kFirstEndpointPort = 15100;

class CredentialVault {
 public:
  // Reads every value (env:NAME from `lookup`, file:PATH's first line) and makes placeholders.
  // `default_ttl` is the seed form's credential_ttl, for entries without a ttl of their own.
  static Result<CredentialVault> load(
      const policy::Policy& policy,
      const std::function<std::optional<std::string>(const std::string&)>& lookup);

  bool empty() const { return header_.empty() && mtls_.empty(); }
  const std::vector<HeaderCredential>& header_credentials() const { return header_; }
  const std::vector<MtlsCredential>& mtls_credentials() const { return mtls_; }
  // Optional credentials whose source was missing (not used this run).
  const std::vector<std::string>& skipped() const { return skipped_; }

  // Some header credential's real value may be used on requests to `host`.
  bool binds(const std::string& host) const;
  const MtlsCredential* mtls_for(const std::string& host, uint16_t port) const;
  const HeaderCredential* endpoint_at(uint16_t port) const;

  // A request head on a connection to `host`. With `may_substitute` (an intercepted connection
  // or local endpoint: the proxy re-originates verified TLS), placeholders of credentials bound
  // to `host` in header values and the query are replaced by their real values and counted;
  // any other placeholder, or any at all without `may_substitute`, is misuse. The head is left
  // as it was unless the outcome is `substituted`.
  HeadCheck check_head(egress::HttpRequestHead& head, const std::string& host, bool may_substitute);

  // Real value -> placeholder, every credential's, for what is relayed back to the sandbox.
  std::vector<StreamRedactor::Pair> redactions() const;

  // `airlock revoke`: from now on the header credential `name`'s placeholder is refused like an
  // expired one (403, `credential.expired` with the reason). Safe from any thread (the control
  // server's), unlike everything else here. An Error names what can be revoked instead.
  Status revoke(const std::string& name);

 private:
  bool revoked(const std::string& name) const;

  // Shared so that the vault stays movable; the mutex guards the names.
  struct Revocations {
    std::mutex mutex;
    std::set<std::string> names;
  };
  std::shared_ptr<Revocations> revocations_ = std::make_shared<Revocations>();
  std::vector<HeaderCredential> header_;
  std::vector<MtlsCredential> mtls_;
  std::vector<std::string> skipped_;
};

}  // namespace airlock::credentials
