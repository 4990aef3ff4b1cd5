// `airlock run`'s credential step, between the policy and the launch plan: --credential options,
// the values read into the vault, the run CA, and what the sandbox gets instead (placeholders,
// endpoints, the trust bundle). Every problem is one line for the user.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "credentials/credential_vault.h"
#include "intercept/interception.h"
#include "policy/policy.h"
#include "sandbox/launch_plan.h"

namespace airlock::cli {

struct PreparedCredentials {
  PreparedCredentials() = default;
  PreparedCredentials(const PreparedCredentials&) = delete;
  PreparedCredentials& operator=(const PreparedCredentials&) = delete;
  PreparedCredentials(PreparedCredentials&& other) noexcept;
  PreparedCredentials& operator=(PreparedCredentials&&) = delete;
  ~PreparedCredentials();  // removes the trust bundle and its directory

  std::unique_ptr<credentials::CredentialVault> vault;    // null: no credentials
  std::unique_ptr<intercept::Interception> interception;  // null: no credentials
  sandbox::CredentialView view;
  std::string bundle_directory;  // private (0700), holds view.trust_bundle_path
};

// --credential NAME=HOST[,HOST...]: the value comes from the caller's variable NAME, is used
// only for HOST, and HOST:443 is allowed (like --allow).
Status apply_credential_options(const std::vector<std::string>& options, policy::Policy& policy);

// Reads the values, checks each binding is reachable under the allowlist, hides the files the
// values and keys come from, sets up TLS interception and the (empty) file the sandbox's trust
// bundle will be written to once the run CA exists (supervisor: Interception::issue_ca).
Result<PreparedCredentials> prepare_credentials(policy::Policy& policy);

}  // namespace airlock::cli
