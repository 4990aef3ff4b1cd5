// The credential pieces without sockets: placeholders, which variables count as secrets, the
// vault's decision on each request head, and the redactor that keeps real values out of what
// comes back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "credentials/credential_vault.h"
#include "credentials/placeholder.h"
#include "credentials/secret_environment.h"
#include "credentials/stream_redactor.h"
#include "policy/policy_loader.h"
#include "wire/http_request.h"

namespace airlock::credentials {
namespace {

using ::testing::HasSubstr;

const std::string kReal = "sk-ant-api03-REALabcdefghijklmnopqrstuvwxyz0123456789";

TEST(Placeholder, SameLengthSamePrefixRandomRest) {
  Result<std::string> first = make_placeholder(kReal);
  Result<std::string> second = make_placeholder(kReal);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second);
  EXPECT_EQ(first->size(), kReal.size());
  EXPECT_EQ(first->substr(0, 13), "sk-ant-api03-");
  EXPECT_NE(*first, kReal);
  EXPECT_NE(*first, *second);  // random per run
  EXPECT_EQ(first->find("REAL"), std::string::npos);
}

TEST(Placeholder, ShortValuesAreRefusedAndPrefixLeavesRandomness) {
  EXPECT_FALSE(make_placeholder("short-secret"));
  // Mostly separators: the prefix shrinks so at least 16 random characters remain.
  Result<std::string> placeholder = make_placeholder("a-b-c-d-e-f-g-h-XXXXXXXX");
  ASSERT_TRUE(placeholder);
  EXPECT_EQ(placeholder->size(), 24U);
}

TEST(SecretEnvironment, ShapesAndKnownNames) {
  for (const char* name :
       {"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "GH_TOKEN", "AWS_ACCESS_KEY_ID",
        "DB_PASSWORD", "MY_SECRET", "npm_token", "PGPASSWORD", "DATABASE_URL", "SSH_AUTH_SOCK"}) {
    EXPECT_TRUE(looks_like_secret(name)) << name;
  }
  for (const char* name : {"PATH", "HOME", "LANG", "TERM", "EDITOR", "KEYBOARD_LAYOUT",
                           "ANTHROPIC_BASE_URL", "NODE_OPTIONS"}) {
    EXPECT_FALSE(looks_like_secret(name)) << name;
  }
}

std::string redact_in_pieces(const std::vector<StreamRedactor::Pair>& pairs,
                             const std::string& stream, size_t piece) {
  StreamRedactor redactor(pairs);
  std::string out;
  for (size_t at = 0; at < stream.size(); at += piece) redactor.feed(stream.substr(at, piece), out);
  redactor.flush(out);
  return out;
}

TEST(StreamRedactor, AnySplitGivesTheSameOutputWithoutTheNeedle) {
  const std::string placeholder = *make_placeholder(kReal);
  const std::string stream = "HTTP/1.1 200 OK\r\n\r\n{\"echo\":\"" + kReal + "\", \"again\": \"" +
                             kReal + "\", \"near\": \"sk-ant-api03-REAL\"}";
  const std::string whole = redact_in_pieces({{kReal, placeholder}}, stream, stream.size());
  EXPECT_EQ(whole.size(), stream.size());
  EXPECT_EQ(whole.find(kReal), std::string::npos);
  EXPECT_NE(whole.find(placeholder), std::string::npos);
  EXPECT_NE(whole.find("sk-ant-api03-REAL\"}"), std::string::npos);  // a near miss passes
  for (size_t piece = 1; piece < 40; ++piece)
    EXPECT_EQ(redact_in_pieces({{kReal, placeholder}}, stream, piece), whole) << piece;
}

TEST(StreamRedactor, HoldsBackOnlyWhatCouldStillBecomeTheNeedle) {
  StreamRedactor redactor({{kReal, *make_placeholder(kReal)}});
  std::string out;
  redactor.feed("data: {\"token\":\"hi\"}\n\n", out);
  EXPECT_EQ(out, "data: {\"token\":\"hi\"}\n\n");  // an event is never delayed
  EXPECT_EQ(redactor.held(), 0U);
  redactor.feed("x sk-ant", out);
  EXPECT_EQ(redactor.held(), 6U);
  redactor.feed("!", out);
  EXPECT_EQ(redactor.held(), 0U);
}

CredentialVault vault_for(const std::string& yaml, std::map<std::string, std::string> env) {
  Result<policy::Policy> policy = policy::load_policy_text(yaml, "test.yaml");
  EXPECT_TRUE(policy) << (policy ? "" : policy.error().message);
  Result<CredentialVault> vault =
      CredentialVault::load(*policy, [&](const std::string& name) -> std::optional<std::string> {
        auto found = env.find(name);
        if (found == env.end()) return std::nullopt;
        return found->second;
      });
  EXPECT_TRUE(vault) << (vault ? "" : vault.error().message);
  return std::move(vault).value();
}

egress::HttpRequestHead head(const std::string& text) {
  egress::HttpRequestParse parsed = egress::parse_http_request_head(text);
  EXPECT_EQ(parsed.status, egress::ParseStatus::complete) << parsed.problem;
  return parsed.head;
}

const char* kPolicy = R"(version: 1
name: t
network:
  mode: allowlist
  allow: [api.example.test:443, other.example.test:443]
credentials:
  - name: KEY
    from: env:KEY
    hosts: [api.example.test]
    max_uses: 2
)";

TEST(CredentialVault, SubstitutesHeadersAndQueryOnlyForBoundHosts) {
  CredentialVault vault = vault_for(kPolicy, {{"KEY", kReal}});
  const std::string placeholder = vault.header_credentials().front().placeholder;
  egress::HttpRequestHead request =
      head("GET /v1?key=" + placeholder + " HTTP/1.1\r\nHost: api.example.test\r\nx-api-key: " +
           placeholder + "\r\nAuthorization: Bearer " + placeholder + "\r\n\r\n");
  HeadCheck check = vault.check_head(request, "api.example.test", true);
  EXPECT_EQ(check.outcome, HeadCheck::Outcome::substituted);
  EXPECT_EQ(request.target, "/v1?key=" + kReal);
  EXPECT_EQ(request.find("x-api-key")->value, kReal);
  EXPECT_EQ(request.find("authorization")->value, "Bearer " + kReal);

  egress::HttpRequestHead elsewhere =
      head("GET / HTTP/1.1\r\nHost: other.example.test\r\nx-api-key: " + placeholder + "\r\n\r\n");
  check = vault.check_head(elsewhere, "other.example.test", true);
  EXPECT_EQ(check.outcome, HeadCheck::Outcome::misuse);
  EXPECT_EQ(elsewhere.find("x-api-key")->value, placeholder);  // never substituted
  EXPECT_THAT(check.reason, HasSubstr("not bound"));
  EXPECT_EQ(check.reason.find(kReal), std::string::npos);

  egress::HttpRequestHead plain =
      head("GET / HTTP/1.1\r\nHost: api.example.test\r\nx-api-key: " + placeholder + "\r\n\r\n");
  EXPECT_EQ(vault.check_head(plain, "api.example.test", false).outcome,
            HeadCheck::Outcome::misuse);  // plain HTTP: the value would travel in clear
}

TEST(CredentialVault, MaxUsesThenExpired) {
  CredentialVault vault = vault_for(kPolicy, {{"KEY", kReal}});
  const std::string placeholder = vault.header_credentials().front().placeholder;
  const std::string text =
      "GET / HTTP/1.1\r\nHost: api.example.test\r\nx-api-key: " + placeholder + "\r\n\r\n";
  for (int i = 0; i < 2; ++i) {
    egress::HttpRequestHead request = head(text);
    EXPECT_EQ(vault.check_head(request, "api.example.test", true).outcome,
              HeadCheck::Outcome::substituted);
  }
  egress::HttpRequestHead third = head(text);
  HeadCheck check = vault.check_head(third, "api.example.test", true);
  EXPECT_EQ(check.outcome, HeadCheck::Outcome::expired);
  EXPECT_THAT(check.reason, HasSubstr("max_uses"));
  EXPECT_EQ(third.find("x-api-key")->value, placeholder);
}

TEST(CredentialVault, MissingValuesAndFilesAreClearErrors) {
  Result<policy::Policy> policy = policy::load_policy_text(kPolicy, "test.yaml");
  ASSERT_TRUE(policy);
  Result<CredentialVault> missing =
      CredentialVault::load(*policy, [](const std::string&) { return std::nullopt; });
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message,
              HasSubstr("test.yaml:7:5: credential KEY: the variable KEY"));
}

TEST(CredentialVault, AnOptionalCredentialWithoutItsSourceIsSkipped) {
  CredentialVault vault = vault_for(R"(version: 1
name: t
network: {mode: allowlist, allow: [api.example.test:443]}
credentials:
  - {name: A, from: env:A, hosts: [api.example.test], optional: true}
  - {name: B, from: env:B, hosts: [api.example.test], optional: true}
)",
                                    {{"B", kReal}});
  ASSERT_EQ(vault.header_credentials().size(), 1U);
  EXPECT_EQ(vault.header_credentials().front().name, "B");
  EXPECT_EQ(vault.skipped(), std::vector<std::string>{"A"});
}

TEST(PolicyLoader, CredentialsEnvAndCreateEntries) {
  Result<policy::Policy> loaded = policy::load_policy_text(R"(version: 1
name: t
description: "a test"
filesystem:
  read_write:
    - {path: ~/.agent, create: directory}
    - {path: ~/.agent.json, create: file}
network:
  mode: allowlist
  allow: [api.example.test:443]
  upstream_ca: /etc/test-ca.pem
process:
  env:
    pass: [GITHUB_TOKEN]
    set: {DISABLE_TELEMETRY: "1"}
credentials:
  - name: KEY
    from: file:/run/secret
    hosts: [API.Example.Test]
    ttl: 5m
    endpoint: {env: BASE_URL, path: /v1}
  - name: kms
    type: mtls
    host: kms.internal:12345
    cert: /etc/a.crt
    key: /etc/a.key
    ca: /etc/ca.crt
)",
                                                           "t.yaml");
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->description, "a test");
  EXPECT_EQ(loaded->filesystem.read_write.back().create, policy::CreateMissing::file);
  EXPECT_EQ(loaded->network.upstream_ca, "/etc/test-ca.pem");
  EXPECT_EQ(loaded->process.env.pass, std::vector<std::string>{"GITHUB_TOKEN"});
  EXPECT_EQ(loaded->process.env.set.front().value, "1");
  const policy::CredentialRule& key = loaded->credentials.front();
  EXPECT_EQ(key.hosts, std::vector<std::string>{"api.example.test"});
  EXPECT_EQ(key.ttl_seconds, 300U);
  EXPECT_EQ(key.endpoint_variable, "BASE_URL");
  EXPECT_EQ(key.endpoint_path, "/v1");
  EXPECT_EQ(loaded->credentials.back().port, 12345);
}

TEST(PolicyLoader, CredentialMistakesPointAtTheLine) {
  struct Case {
    const char* entry;
    const char* expected;
  } cases[] = {
      {"{name: K, from: env:K, hosts: [\"*.example.test\"]}", "t.yaml:4:36: credential host"},
      {"{name: K, from: env:K, hosts: [10.0.0.1]}", "must be one exact name"},
      {"{name: K, from: env:K}", "needs name:, from:"},
      {"{name: K, type: mtls, host: \"kms:1\", cert: /a}",
       "needs host: NAME:PORT, cert:, key: and ca:"},
      {"{name: K, from: env:K, hosts: [a.test], cert: /a}", "belong to a credential of type: mtls"},
      {"{name: \"K-1\", from: env:K, hosts: [a.test]}", "not an environment variable name"},
  };
  for (const Case& test : cases) {
    Result<policy::Policy> loaded = policy::load_policy_text(
        std::string("version: 1\nname: t\ncredentials:\n  - ") + test.entry + "\n", "t.yaml");
    ASSERT_FALSE(loaded) << test.entry;
    EXPECT_THAT(loaded.error().message, HasSubstr(test.expected)) << test.entry;
  }
}

TEST(PolicyLoader, ALaterCredentialReplacesTheProfilesOfTheSameName) {
  Result<policy::Policy> loaded = policy::load_policy_text(R"(version: 1
name: t
credentials:
  - {name: K, from: env:K, hosts: [a.test]}
  - {name: K, from: env:K, hosts: [b.test]}
)",
                                                           "t.yaml");
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->credentials.size(), 1U);
  EXPECT_EQ(loaded->credentials.front().hosts, std::vector<std::string>{"b.test"});
}

}  // namespace
}  // namespace airlock::credentials
