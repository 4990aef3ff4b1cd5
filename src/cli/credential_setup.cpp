#include "cli/credential_setup.h"

#include "credentials/unreachable_bindings.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "common/errno_text.h"
#include "common/file_io.h"
#include "common/unique_fd.h"
#include "policy/network_rule.h"

namespace airlock::cli {

Status apply_credential_options(const std::vector<std::string>& options, policy::Policy& policy) {
  for (const std::string& text : options) {
    const size_t equals = text.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == text.size()) {
      return Error{"--credential '" + text + "' must be NAME=HOST[,HOST...], e.g. " +
                   "ANTHROPIC_API_KEY=api.anthropic.com"};
    }
    policy::CredentialRule rule;
    rule.name = text.substr(0, equals);
    rule.from = "env:" + rule.name;
    rule.where = policy::SourceLocation{"--credential " + text, 0, 0};
    std::string hosts = text.substr(equals + 1);
    for (size_t start = 0; start <= hosts.size();) {
      size_t comma = hosts.find(',', start);
      if (comma == std::string::npos) comma = hosts.size();
      policy::NetworkRuleParse parsed =
          policy::parse_network_rule(hosts.substr(start, comma - start) + ":443");
      if (!parsed.rule || parsed.rule->host.rfind("*.", 0) == 0) {
        return Error{"--credential " + text + ": '" + hosts.substr(start, comma - start) +
                     "' is not one exact host name"};
      }
      rule.hosts.push_back(parsed.rule->host);
      policy::NetworkRule allow = *parsed.rule;
      allow.where = rule.where;
      policy.network.allow.push_back(allow);
      start = comma + 1;
    }
    std::erase_if(policy.credentials,
                  [&](const policy::CredentialRule& other) { return other.name == rule.name; });
    policy.credentials.push_back(rule);
    policy.network.mode = policy::NetworkMode::allowlist;
  }
  return ok_status();
}

namespace {

// A binding nobody can reach would fail later as a confusing denial: refuse it now.
Status check_reachable(const policy::Policy& policy) {
  std::vector<std::string> unreachable = credentials::unreachable_bindings(policy);
  if (!unreachable.empty()) return Error{unreachable.front()};
  return ok_status();
}

}  // namespace

// A moved-from value owns no directory: only the last owner removes it.
PreparedCredentials::PreparedCredentials(PreparedCredentials&& other) noexcept
    : vault(std::move(other.vault)),
      interception(std::move(other.interception)),
      view(std::move(other.view)),
      bundle_directory(std::exchange(other.bundle_directory, std::string())) {}

PreparedCredentials::~PreparedCredentials() {
  if (bundle_directory.empty()) return;
  if (!view.trust_bundle_path.empty()) ::unlink(view.trust_bundle_path.c_str());
  ::rmdir(bundle_directory.c_str());
}

Result<PreparedCredentials> prepare_credentials(policy::Policy& policy) {
  PreparedCredentials prepared;
  if (policy.credentials.empty()) return prepared;
  if (Status reachable = check_reachable(policy); !reachable) return reachable.error();
  Result<credentials::CredentialVault> vault = credentials::CredentialVault::load(
      policy, [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      });
  if (!vault) return vault.error();
  prepared.vault = std::make_unique<credentials::CredentialVault>(std::move(vault).value());
  // The files values and keys come from stay outside, wherever the view would show them.
  for (const policy::CredentialRule& rule : policy.credentials) {
    std::vector<std::string> files = {rule.cert, rule.key};
    if (rule.from.rfind("file:", 0) == 0) files.push_back(rule.from.substr(5));
    for (const std::string& file : files) {
      if (!file.empty()) policy.filesystem.hidden.push_back(policy::PathEntry{file, rule.where});
    }
  }
  char bundle_real_path[PATH_MAX];
  if (::realpath(sandbox::kSystemCaBundle, bundle_real_path) == nullptr) {
    return Error{std::string("cannot trust the run CA inside the sandbox: ") +
                 sandbox::kSystemCaBundle + ": " + errno_text(errno) +
                 " (install ca-certificates)"};
  }
  Result<std::string> host_bundle = read_file(bundle_real_path);
  if (!host_bundle)
    return Error{"cannot read the host's CA bundle: " + host_bundle.error().message};
  Result<std::unique_ptr<intercept::Interception>> interception = intercept::Interception::create(
      *prepared.vault, policy.network.upstream_ca, std::move(host_bundle).value());
  if (!interception) {
    return Error{(policy.network.upstream_ca ? policy.network.upstream_ca_where.to_string() + ": "
                                             : std::string()) +
                 "cannot set up TLS interception: " + interception.error().message};
  }
  prepared.interception = std::move(interception).value();
  // An empty file now (the launch plan binds it); the supervisor fills it after the clone.
  char directory[] = "/tmp/airlock-bundle-XXXXXX";
  if (::mkdtemp(directory) == nullptr)
    return Error{"cannot make a directory for the sandbox's trust bundle: " + errno_text(errno)};
  prepared.bundle_directory = directory;
  prepared.view.trust_bundle_path = prepared.bundle_directory + "/ca-bundle.crt";
  UniqueFd bundle(::open(prepared.view.trust_bundle_path.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!bundle.valid())
    return Error{"cannot create " + prepared.view.trust_bundle_path + ": " + errno_text(errno)};
  for (const credentials::HeaderCredential& credential : prepared.vault->header_credentials()) {
    prepared.view.environment.push_back(credential.name + "=" + credential.placeholder);
    if (credential.endpoint_port != 0) {
      prepared.view.endpoint_ports.push_back(credential.endpoint_port);
      prepared.view.environment.push_back(
          fmt::format("{}=http://127.0.0.1:{}{}", credential.endpoint_variable,
                      credential.endpoint_port, credential.endpoint_path));
    }
  }
  return prepared;
}

}  // namespace airlock::cli
