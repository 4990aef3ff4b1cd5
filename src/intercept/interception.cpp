#include "intercept/interception.h"

#include <unistd.h>

#include <cerrno>

#include "common/errno_text.h"
#include "common/file_io.h"

// Last, in a block of its own: OpenSSL's functions become the slots of its dlopen table.
#include "intercept/openssl_library.h"

namespace airlock::intercept {

Result<std::unique_ptr<Interception>> Interception::create(
    const credentials::CredentialVault& vault, const std::optional<std::string>& upstream_ca,
    std::string host_bundle) {
  if (Status opened = open_openssl(); !opened) return opened.error();
  auto interception = std::make_unique<Interception>();
  interception->host_bundle_ = std::move(host_bundle);
  if (!interception->host_bundle_.empty() && interception->host_bundle_.back() != '\n')
    interception->host_bundle_ += '\n';
  Result<TlsContexts> contexts = make_tls_contexts(upstream_ca);
  if (!contexts) return contexts.error();
  interception->contexts = std::move(contexts).value();
  for (const credentials::MtlsCredential& credential : vault.mtls_credentials()) {
    for (const std::string& file : {credential.cert, credential.key, credential.ca}) {
      if (::access(file.c_str(), R_OK) != 0) {
        return Error{"credential " + credential.name + ": cannot read " + file + ": " +
                     errno_text(errno)};
      }
    }
  }
  return interception;
}

Status Interception::issue_ca(const std::string& label, const std::string& bundle_path) {
  Result<std::unique_ptr<RunCa>> made = RunCa::create(label);
  if (!made) return made.error();
  ca = std::move(made).value();
  // Written in place (the sandbox's bind mount shows this very file), before the command runs.
  Status written = write_file(bundle_path, host_bundle_ + ca->certificate_pem());
  if (!written) return Error{"cannot write the sandbox's trust bundle: " + written.error().message};
  return ok_status();
}

Result<SSL_CTX*> Interception::mtls_context(const credentials::MtlsCredential& credential) {
  auto found = mtls_.find(credential.name);
  if (found != mtls_.end()) return found->second.get();
  Result<TlsContexts::ContextPtr> context =
      make_mtls_context(credential.cert, credential.key, credential.ca, *mtls_sessions_);
  if (!context) return Error{"credential " + credential.name + ": " + context.error().message};
  SSL_CTX* raw = context->get();
  mtls_.emplace(credential.name, std::move(context).value());
  return raw;
}

}  // namespace airlock::intercept
