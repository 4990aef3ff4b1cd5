// Secrets in the plain environment: process.env.set values that look like keys, and secret-
// looking variables set or passed through. The sandbox (and every process in it) can read and
// send them; a credentials: entry gives it only a placeholder.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "credentials/secret_environment.h"
#include "lint/lint_rules.h"

namespace airlock::lint {
namespace {

// Documented key prefixes, each followed by at least kMinKeyTail more characters: OpenAI and
// Anthropic "sk-", GitHub "ghp_" "gho_" "ghu_" "ghs_" "ghr_" "github_pat_", GitLab "glpat-",
// Slack "xoxb-" "xoxp-", AWS access key ids "AKIA", Google API keys "AIza", Hugging Face "hf_",
// npm "npm_", Stripe "sk_live_" "rk_live_", and PEM private keys.
constexpr std::array<std::string_view, 17> kKeyPrefixes = {
    "sk-",   "ghp_", "gho_", "ghu_", "ghs_", "ghr_",     "github_pat_", "glpat-",    "xoxb-",
    "xoxp-", "AKIA", "AIza", "hf_",  "npm_", "sk_live_", "rk_live_",    "-----BEGIN"};
constexpr size_t kMinKeyTail = 16;
// A long random-looking token without a known prefix: letters of both cases and digits.
constexpr size_t kMinBareTokenLength = 32;

bool looks_like_token(std::string_view value) {
  if (value.size() < kMinBareTokenLength) return false;
  bool lower = false;
  bool upper = false;
  bool digit = false;
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    lower |= std::islower(byte) != 0;
    upper |= std::isupper(byte) != 0;
    digit |= std::isdigit(byte) != 0;
    if (std::isalnum(byte) == 0 && std::string_view("-_+=/.").find(c) == std::string_view::npos)
      return false;
  }
  return lower && upper && digit;
}

bool looks_like_secret_value(std::string_view value) {
  for (std::string_view prefix : kKeyPrefixes) {
    if (value.starts_with(prefix) && value.size() >= prefix.size() + kMinKeyTail) return true;
  }
  return looks_like_token(value);
}

bool is_credential(const policy::Policy& policy, const std::string& name) {
  return std::any_of(policy.credentials.begin(), policy.credentials.end(),
                     [&](const policy::CredentialRule& rule) { return rule.name == name; });
}

std::string credential_fix(const std::string& name) {
  return fmt::format(
      "declare it under credentials: ({{name: {0}, from: env:{0}, hosts: [API.HOST]}}) so the "
      "sandbox holds a placeholder and the real value is used only for that host",
      name);
}

}  // namespace

void lint_environment(const LintContext& context, Findings& findings) {
  const policy::EnvironmentPolicy& env = context.policy.process.env;
  for (const policy::EnvironmentVariable& variable : env.set) {
    if (looks_like_secret_value(variable.value)) {
      findings.push_back(
          {"environment.secret-value", Severity::error, variable.where,
           fmt::format("process.env.set gives {} a value that looks like a key or token: it is "
                       "written in the policy file and readable by everything in the sandbox",
                       variable.name),
           "remove the value from the policy (and rotate it); " + credential_fix(variable.name)});
    } else if (credentials::looks_like_secret(variable.name) &&
               !context.sources.has_comment(variable.where)) {
      findings.push_back(
          {"environment.secret-variable-set", Severity::warning, variable.where,
           fmt::format("process.env.set sets {}, a secret-looking name, in the plain environment",
                       variable.name),
           "if it holds a secret: " + credential_fix(variable.name) +
               "; if it does not, say so in a comment"});
    }
  }
  for (size_t i = 0; i < env.pass.size(); ++i) {
    const std::string& name = env.pass[i];
    if (!credentials::looks_like_secret(name) || is_credential(context.policy, name)) continue;
    if (i < env.pass_where.size() && context.sources.has_comment(env.pass_where[i])) continue;
    findings.push_back(
        {"environment.secret-variable-passed", Severity::warning,
         i < env.pass_where.size() ? env.pass_where[i] : context.in_policy_file({}),
         fmt::format("process.env.pass lets {} (a secret-looking name) into the sandbox with its "
                     "real value",
                     name),
         credential_fix(name) + "; if it must be the real value, say why in a comment"});
  }
}

}  // namespace airlock::lint
