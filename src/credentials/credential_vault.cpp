#include "credentials/credential_vault.h"

#include <string.h>

#include <algorithm>

#include "common/file_io.h"
#include "credentials/placeholder.h"

namespace airlock::credentials {
namespace {

Result<std::string> read_value(
    const policy::CredentialRule& rule,
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  const std::string where = rule.where.to_string() + ": credential " + rule.name + ": ";
  if (rule.from.rfind("env:", 0) == 0) {
    const std::string variable = rule.from.substr(4);
    std::optional<std::string> value = lookup(variable);
    if (!value || value->empty()) {
      return Error{where + "the variable " + variable +
                   " is not set in airlock's environment; export it in the shell that starts "
                   "airlock (it is never passed into the sandbox)"};
    }
    return std::move(*value);  // moved, never copied: one buffer to zero in the sandbox's init
  }
  const std::string path = rule.from.substr(5);
  Result<std::string> text = read_file(path);
  if (!text) return Error{where + "cannot read " + path + ": " + text.error().message};
  std::string value = text->substr(0, text->find_first_of("\r\n"));
  // The file's text would stay behind in freed memory, which the sandbox's init inherits.
  ::explicit_bzero(text.value().data(), text->size());
  if (value.empty()) return Error{where + path + " has an empty first line"};
  return value;
}

bool contains(const std::vector<std::string>& hosts, const std::string& host) {
  return std::find(hosts.begin(), hosts.end(), host) != hosts.end();
}

// Replaces every occurrence of `needle` in `text` (same length) and says whether there was one.
bool replace_all(std::string& text, size_t from, const std::string& needle,
                 const std::string& replacement) {
  bool found = false;
  for (size_t at = text.find(needle, from); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    text.replace(at, needle.size(), replacement);
    found = true;
  }
  return found;
}

}  // namespace

Result<CredentialVault> CredentialVault::load(
    const policy::Policy& policy,
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  CredentialVault vault;
  const auto start = std::chrono::steady_clock::now();
  uint16_t next_endpoint_port = kFirstEndpointPort;
  for (const policy::CredentialRule& rule : policy.credentials) {
    if (rule.type == policy::CredentialType::mtls) {
      vault.mtls_.push_back({rule.name, rule.host, rule.port, rule.cert, rule.key, rule.ca});
      continue;
    }
    Result<std::string> real = read_value(rule, lookup);
    if (!real && rule.optional) {
      vault.skipped_.push_back(rule.name);
      continue;
    }
    if (!real) return real.error();
    Result<std::string> placeholder = make_placeholder(*real);
    if (!placeholder) {
      return Error{rule.where.to_string() + ": credential " + rule.name + ": " +
                   placeholder.error().message};
    }
    HeaderCredential credential;
    credential.name = rule.name;
    credential.placeholder = *placeholder;
    credential.real = std::move(real).value();  // the value's only buffer (see read_value)
    credential.hosts = rule.hosts;
    const uint64_t ttl =
        rule.ttl_seconds != 0 ? rule.ttl_seconds : policy.credential_ttl_seconds.value_or(0);
    if (ttl != 0) credential.expires = start + std::chrono::seconds(ttl);
    credential.max_uses = rule.max_uses;
    credential.endpoint_variable = rule.endpoint_variable;
    credential.endpoint_path = rule.endpoint_path;
    if (!rule.endpoint_variable.empty()) credential.endpoint_port = next_endpoint_port++;
    vault.header_.push_back(std::move(credential));
  }
  return vault;
}

bool CredentialVault::binds(const std::string& host) const {
  return std::any_of(header_.begin(), header_.end(),
                     [&](const HeaderCredential& c) { return contains(c.hosts, host); });
}

const MtlsCredential* CredentialVault::mtls_for(const std::string& host, uint16_t port) const {
  for (const MtlsCredential& credential : mtls_) {
    if (credential.host == host && credential.port == port) return &credential;
  }
  return nullptr;
}

const HeaderCredential* CredentialVault::endpoint_at(uint16_t port) const {
  for (const HeaderCredential& credential : header_) {
    if (credential.endpoint_port == port) return &credential;
  }
  return nullptr;
}

HeadCheck CredentialVault::check_head(egress::HttpRequestHead& head, const std::string& host,
                                      bool may_substitute) {
  HeadCheck check;
  // First pass: decide, without changing anything, so a refused head is left as it came.
  std::vector<HeaderCredential*> to_use;
  const size_t query = head.target.find('?');
  for (HeaderCredential& credential : header_) {
    const std::string& placeholder = credential.placeholder;
    bool in_headers = std::any_of(head.headers.begin(), head.headers.end(),
                                  [&](const egress::HttpHeader& header) {
                                    return header.value.find(placeholder) != std::string::npos;
                                  });
    bool in_target = head.target.find(placeholder) != std::string::npos;
    if (!in_headers && !in_target) continue;
    if (!may_substitute || !contains(credential.hosts, host)) {
      check.outcome = HeadCheck::Outcome::misuse;
      check.credential = credential.name;
      check.reason = "the placeholder of credential " + credential.name + " was sent to " + host +
                     (may_substitute ? ", a host it is not bound to"
                                     : " in a request the proxy does not re-originate over "
                                       "verified TLS");
      return check;
    }
    const bool in_query =
        query != std::string::npos && head.target.find(placeholder, query) != std::string::npos;
    if (!in_headers && !in_query) continue;  // only in the path: not a place it is used
    if (revoked(credential.name)) {
      check.outcome = HeadCheck::Outcome::expired;
      check.credential = credential.name;
      check.reason = "credential " + credential.name + " was revoked (airlock revoke)";
      return check;
    }
    if (credential.expires && std::chrono::steady_clock::now() >= *credential.expires) {
      check.outcome = HeadCheck::Outcome::expired;
      check.credential = credential.name;
      check.reason = "credential " + credential.name + " has expired (ttl)";
      return check;
    }
    if (credential.max_uses != 0 && credential.uses >= credential.max_uses) {
      check.outcome = HeadCheck::Outcome::expired;
      check.credential = credential.name;
      check.reason = "credential " + credential.name + " has been used its " +
                     std::to_string(credential.max_uses) + " times (max_uses)";
      return check;
    }
    to_use.push_back(&credential);
  }
  for (HeaderCredential* credential : to_use) {
    for (egress::HttpHeader& header : head.headers)
      replace_all(header.value, 0, credential->placeholder, credential->real);
    if (query != std::string::npos)
      replace_all(head.target, query, credential->placeholder, credential->real);
    ++credential->uses;
    check.used.push_back(credential->name);
  }
  if (!to_use.empty()) check.outcome = HeadCheck::Outcome::substituted;
  return check;
}

Status CredentialVault::revoke(const std::string& name) {
  const bool header = std::any_of(header_.begin(), header_.end(),
                                  [&](const HeaderCredential& c) { return c.name == name; });
  if (!header) {
    const bool mtls = std::any_of(mtls_.begin(), mtls_.end(),
                                  [&](const MtlsCredential& c) { return c.name == name; });
    if (mtls) {
      return Error{"credential " + name +
                   " is an mTLS client certificate: it has no placeholder to refuse; stop the "
                   "sandbox to end its use"};
    }
    std::string known;
    for (const HeaderCredential& credential : header_)
      known += (known.empty() ? "" : ", ") + credential.name;
    return Error{"this sandbox has no credential " + name +
                 (known.empty() ? std::string(" (it has none with a placeholder)")
                                : " (it has: " + known + ")")};
  }
  std::lock_guard<std::mutex> lock(revocations_->mutex);
  revocations_->names.insert(name);
  return ok_status();
}

bool CredentialVault::revoked(const std::string& name) const {
  std::lock_guard<std::mutex> lock(revocations_->mutex);
  return revocations_->names.count(name) != 0;
}

std::vector<StreamRedactor::Pair> CredentialVault::redactions() const {
  std::vector<StreamRedactor::Pair> pairs;
  for (const HeaderCredential& credential : header_)
    pairs.push_back({credential.real, credential.placeholder});
  return pairs;
}

}  // namespace airlock::credentials
