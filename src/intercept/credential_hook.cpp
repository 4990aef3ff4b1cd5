#include "intercept/credential_hook.h"

#include "wire/http_request.h"

namespace airlock::intercept {
namespace {

// The path without its query: the query may hold a real value after substitution.
std::string path_only(const std::string& target) {
  return target.substr(0, target.find('?'));
}

}  // namespace

CredentialHook::CredentialHook(credentials::CredentialVault& vault, const audit::AuditLog& audit,
                               std::string host, bool may_substitute, std::string endpoint_host,
                               std::function<nlohmann::json()> process)
    : vault_(vault),
      audit_(audit),
      host_(std::move(host)),
      may_substitute_(may_substitute),
      endpoint_host_(std::move(endpoint_host)),
      process_(std::move(process)) {}

std::optional<egress::RequestHeadHook::Refusal> CredentialHook::on_head(
    egress::HttpRequestHead& head) {
  const std::string path = path_only(head.target);
  credentials::HeadCheck check = vault_.check_head(head, host_, may_substitute_);
  switch (check.outcome) {
    case credentials::HeadCheck::Outcome::misuse:
    case credentials::HeadCheck::Outcome::expired: {
      const bool misuse = check.outcome == credentials::HeadCheck::Outcome::misuse;
      nlohmann::json fields = {{"credential", check.credential}, {"host", host_},
                               {"method", head.method},          {"path", path},
                               {"reason", check.reason},         {"process", process_()}};
      audit_.record(misuse ? "credential.misuse" : "credential.expired", fields);
      return Refusal{403, check.reason};
    }
    case credentials::HeadCheck::Outcome::substituted:
      for (const std::string& name : check.used) {
        audit_.record(
            "credential.use",
            {{"credential", name}, {"host", host_}, {"method", head.method}, {"path", path}});
      }
      break;
    case credentials::HeadCheck::Outcome::untouched:
      break;
  }
  if (!endpoint_host_.empty()) {
    for (egress::HttpHeader& header : head.headers) {
      if (egress::equals_ignoring_case(header.name, "host")) header.value = endpoint_host_;
    }
    head.host_header = endpoint_host_;
  }
  return std::nullopt;
}

}  // namespace airlock::intercept
