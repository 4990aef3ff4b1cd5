// The run's own certificate authority for TLS interception: made in memory at start, its key
// never written anywhere and gone with the supervisor. It signs one leaf per intercepted name,
// on first use, and the sandbox trusts it through the bundle and variables the launch plan sets.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <map>
#include <memory>
#include <string>

#include "common/result.h"

namespace airlock::intercept {

// Defined beside the code that calls OpenSSL (it is opened with dlopen: openssl_library.h).
struct X509Free {
  void operator()(X509* certificate) const;
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

class RunCa {
 public:
  // `label` names the run in the CA's subject (e.g. the sandbox id), so a user who finds the
  // certificate knows where it came from.
  static Result<std::unique_ptr<RunCa>> create(const std::string& label);

  const std::string& certificate_pem() const { return certificate_pem_; }
  // The leaf for `name` (cached: signed once per run), with the key every leaf shares.
  Result<X509*> leaf_for(const std::string& name);
  EVP_PKEY* leaf_key() const { return leaf_key_.get(); }

 private:
  RunCa() = default;
  PkeyPtr ca_key_;
  X509Ptr ca_certificate_;
  std::string certificate_pem_;
  PkeyPtr leaf_key_;  // one P-256 key for all leaves: a new key per name would cost a keygen each
  std::map<std::string, X509Ptr> leaves_;
  long next_serial_ = 2;
};

}  // namespace airlock::intercept
