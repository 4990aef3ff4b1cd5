// `airlock suggest` (src/suggest): recorded events in, the minimal policy out. Each test builds
// events the way the proxy writes them, then loads the suggestion with the real loader and
// lints it like `airlock check --strict`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lint/policy_lint.h"
#include "policy/policy_loader.h"
#include "suggest/audit_events.h"
#include "suggest/observation_summary.h"
#include "suggest/policy_suggestion.h"

namespace airlock::suggest {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

nlohmann::json process(const std::string& exe, std::vector<std::string> argv,
                       nlohmann::json parents = nlohmann::json::array()) {
  return {{"pid", 7}, {"host_pid", 4242}, {"exe", exe}, {"argv", argv}, {"parents", parents}};
}

nlohmann::json attempt(const std::string& host, int port, const std::string& decision,
                       const std::string& reason, const nlohmann::json& client,
                       const std::string& via = "transparent") {
  return {{"event", "egress.decision"},
          {"via", via},
          {"host", host},
          {"port", port},
          {"decision", decision},
          {"reason", reason},
          {"rule", ""},
          {"process", client},
          {"sandbox", {{"name", "default"}, {"id", "0123456789abcdef"}}}};
}

nlohmann::json missing_rule(const std::string& host, int port, const nlohmann::json& client) {
  return attempt(host, port, "deny", "no rule for this host and port", client);
}

const nlohmann::json kCurl = process("/usr/bin/curl", {"curl", "-sS", "https://x.test/"});
const nlohmann::json kGitClone =
    process("/usr/bin/git", {"git", "clone", "https://api.example.test/repo.git"});

std::string suggest(const std::vector<nlohmann::json>& events, const SuggestOptions& options = {}) {
  Result<std::string> text = suggest_policy(events, options);
  EXPECT_TRUE(text.ok()) << (text ? "" : text.error().message);
  return text ? *text : "";
}

class TemporaryFile {
 public:
  explicit TemporaryFile(const std::string& text) {
    char name[] = "/tmp/airlock-suggest-test-XXXXXX";
    int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~TemporaryFile() { ::unlink(path_.c_str()); }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// What `airlock check --strict` would say: load errors, then every lint finding.
std::vector<std::string> check_strict(const std::string& yaml) {
  TemporaryFile file(yaml);
  Result<policy::Policy> loaded = policy::load_policy_file(file.path());
  if (!loaded) return {loaded.error().message};
  Result<std::vector<lint::Finding>> findings = lint::lint_policy(*loaded, file.path());
  if (!findings) return {findings.error().message};
  std::vector<std::string> messages;
  for (const lint::Finding& finding : *findings)
    messages.push_back(finding.code + ": " + finding.message);
  return messages;
}

policy::Policy load(const std::string& yaml) {
  Result<policy::Policy> loaded = policy::load_policy_text(yaml, "suggested.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded ? "" : loaded.error().message) << "\n" << yaml;
  return loaded ? *loaded : policy::Policy{};
}

std::vector<std::string> allow_rules(const policy::Policy& policy) {
  std::vector<std::string> rules;
  for (const policy::NetworkRule& rule : policy.network.allow)
    rules.push_back(rule.host + ":" + std::to_string(rule.port));
  return rules;
}

TEST(SuggestPolicy, ExactNamesAndPortsWithProgramsAndCounts) {
  std::vector<nlohmann::json> events(3, missing_rule("api.example.test", 443, kGitClone));
  events.push_back(missing_rule("api.example.test", 443, kCurl));
  events.push_back(missing_rule("api.example.test", 8443, kCurl));
  const std::string text = suggest(events);
  EXPECT_THAT(text, HasSubstr("    # git (clone) x3, curl x1\n    - api.example.test:443\n"));
  EXPECT_THAT(text, HasSubstr("    # curl x1\n    - api.example.test:8443\n"));
  const policy::Policy policy = load(text);
  EXPECT_EQ(policy.network.mode, policy::NetworkMode::allowlist);
  EXPECT_EQ(allow_rules(policy),
            (std::vector<std::string>{"api.example.test:443", "api.example.test:8443"}));
  EXPECT_THAT(check_strict(text), IsEmpty());
}

TEST(SuggestPolicy, SortedWhateverTheOrderOfEvents) {
  std::vector<nlohmann::json> events = {missing_rule("b.example.test", 443, kCurl),
                                        missing_rule("a.example.test", 443, kCurl),
                                        missing_rule("10.1.2.3", 6379, kCurl)};
  const std::string first = suggest(events);
  std::reverse(events.begin(), events.end());
  EXPECT_EQ(suggest(events), first);
  EXPECT_EQ(
      allow_rules(load(first)),
      (std::vector<std::string>{"a.example.test:443", "b.example.test:443", "10.1.2.3:6379"}));
}

TEST(SuggestPolicy, HelperProgramsAreNamedByTheirParent) {
  const nlohmann::json helper =
      process("/usr/lib/git-core/git-remote-https",
              {"git-remote-https", "origin", "https://api.example.test/repo.git"},
              {{{"pid", 5}, {"exe", "/usr/bin/git"}, {"argv", {"git", "clone", "https://x"}}},
               {{"pid", 2}, {"exe", "/usr/bin/bash"}, {"argv", {"bash", "-c", "git clone"}}}});
  // node overwrites its argument area with the title; the rest reads as empty strings.
  const nlohmann::json npm = process("/usr/bin/node", {"npm install tiny-pkg@1.0.0", "", "", ""});
  const nlohmann::json pip =
      process("/usr/bin/python3.11", {"/usr/bin/python3", "/usr/bin/pip", "download", "tiny"});
  const std::string text = suggest({missing_rule("api.example.test", 443, helper),
                                    missing_rule("registry.example.test", 443, npm),
                                    missing_rule("pypi.example.test", 443, pip)});
  EXPECT_THAT(text, HasSubstr("# git (clone) x1\n    - api.example.test:443"));
  EXPECT_THAT(text, HasSubstr("# npm (install) x1\n    - registry.example.test:443"));
  EXPECT_THAT(text, HasSubstr("# pip (download) x1\n    - pypi.example.test:443"));
}

std::vector<nlohmann::json> siblings(const std::vector<std::string>& names) {
  std::vector<nlohmann::json> events;
  events.reserve(names.size());
  for (const std::string& name : names) events.push_back(missing_rule(name, 443, kCurl));
  return events;
}

TEST(SuggestPolicy, CollapsesAtNSiblingsAndNotAtNMinusOne) {
  const auto events = siblings({"a.cdn.example.com", "b.cdn.example.com", "c.cdn.example.com"});
  SuggestOptions three;
  three.collapse = 3;
  const std::string collapsed = suggest(events, three);
  EXPECT_EQ(allow_rules(load(collapsed)), (std::vector<std::string>{"*.cdn.example.com:443"}));
  EXPECT_THAT(collapsed, HasSubstr("    # curl x3\n    - \"*.cdn.example.com:443\"\n"));
  EXPECT_THAT(check_strict(collapsed), IsEmpty());

  SuggestOptions four;
  four.collapse = 4;
  EXPECT_EQ(allow_rules(load(suggest(events, four))),
            (std::vector<std::string>{"a.cdn.example.com:443", "b.cdn.example.com:443",
                                      "c.cdn.example.com:443"}));
  // Without --collapse, never a wildcard.
  EXPECT_THAT(suggest(events), Not(HasSubstr("*.")));
}

TEST(SuggestPolicy, NeverCollapsesAboveARegistrableDomain) {
  SuggestOptions two;
  two.collapse = 2;
  // github.io is a public suffix: *.github.io would let anyone's site in.
  EXPECT_EQ(allow_rules(load(suggest(siblings({"a.github.io", "b.github.io"}), two))),
            (std::vector<std::string>{"a.github.io:443", "b.github.io:443"}));
  // Nor at the TLD, nor across ports.
  EXPECT_EQ(allow_rules(load(suggest(siblings({"example.com", "example.org", "other.com"}), two))),
            (std::vector<std::string>{"example.com:443", "example.org:443", "other.com:443"}));
  // The registrable domain itself is the highest parent a wildcard may have.
  EXPECT_EQ(allow_rules(load(suggest(siblings({"a.example.com", "b.example.com"}), two))),
            (std::vector<std::string>{"*.example.com:443"}));
}

TEST(SuggestPolicy, InternalAddressesAreIpRulesFlaggedWithAComment) {
  const std::string text =
      suggest({attempt("10.1.2.3", 6379, "deny",
                       "an IP address is only reachable through an IP or CIDR rule", kCurl),
               attempt("db.internal.example.com", 5432, "deny",
                       "10.20.0.7 address (private) without an IP rule for it", kCurl),
               attempt("localhost", 8080, "deny",
                       "the sandbox's loopback port 8080 is not carried to the host", kCurl)});
  EXPECT_THAT(text,
              HasSubstr("    # internal: 10.1.2.3 is a private address (RFC 1918); listed "
                        "only because it was observed\n    # curl x1\n    - 10.1.2.3:6379\n"));
  EXPECT_THAT(text, HasSubstr("# internal: 10.20.0.7 is a private address"));
  EXPECT_THAT(text, HasSubstr("# internal: the host's own loopback port 8080"));
  EXPECT_EQ(allow_rules(load(text)),
            (std::vector<std::string>{"db.internal.example.com:5432", "localhost:8080",
                                      "10.1.2.3:6379", "10.20.0.7:5432"}));
  EXPECT_THAT(check_strict(text), IsEmpty());
}

TEST(SuggestPolicy, WhatNoRuleFixesOrMustStayDeniedGetsNoRule) {
  const std::string text =
      suggest({attempt("169.254.169.254", 80, "deny",
                       "an IP address is only reachable through an IP or CIDR rule", kCurl),
               attempt("api.example.test", 443, "deny",
                       "TLS SNI evil.example.test is not the destination that was allowed", kCurl),
               attempt("api.example.test", 80, "deny", "malformed HTTP request: bad header", kCurl,
                       "http_forward"),
               attempt("statsig.anthropic.com", 443, "deny", "denied by rule", kCurl)},
              SuggestOptions{"claude-code", std::nullopt, {}});
  const policy::Policy policy = load(text);
  // claude-code's own allow rule comes through extends; nothing was added.
  EXPECT_EQ(allow_rules(policy), (std::vector<std::string>{"api.anthropic.com:443"}));
  EXPECT_THAT(text, HasSubstr("#   169.254.169.254:80 (curl x1): the cloud metadata service"));
  EXPECT_THAT(text, HasSubstr("#   api.example.test:443 (curl x1): no rule can fix this (an attack "
                              "or a bug, not a need): TLS SNI evil.example.test"));
  EXPECT_THAT(text, HasSubstr("#   api.example.test:80 (curl x1): no rule can fix this"));
  EXPECT_THAT(text, HasSubstr("#   statsig.anthropic.com:443 (curl x1): stays denied by the "
                              "base's deny rule statsig.anthropic.com:443"));
}

TEST(SuggestPolicy, WhatTheBaseAllowsGetsNoNewRule) {
  const std::string text = suggest({attempt("api.anthropic.com", 443, "allow", "allowed", kCurl),
                                    missing_rule("api.example.test", 443, kCurl)},
                                   SuggestOptions{"claude-code", std::nullopt, {}});
  EXPECT_THAT(text, HasSubstr("extends: [claude-code]"));
  EXPECT_THAT(text, HasSubstr("# 1 attempt(s) were already allowed by the base."));
  EXPECT_EQ(allow_rules(load(text)),
            (std::vector<std::string>{"api.anthropic.com:443", "api.example.test:443"}));
}

TEST(SuggestPolicy, AllowedAttemptsCountWhenTheBaseDoesNotAllowThem) {
  // A recording of `run --allow X` or of observe --forward: X was allowed, the base lacks it.
  const std::string text = suggest(
      {attempt("example.com", 443, "allow", "observe --forward: no rule covers it", kCurl)});
  EXPECT_EQ(allow_rules(load(text)), (std::vector<std::string>{"example.com:443"}));
}

TEST(SuggestPolicy, DnsOnlyNamesAndDatagramsAreCommentsOnly) {
  const std::string text = suggest({{{"event", "egress.decision"},
                                     {"via", "dns"},
                                     {"host", "asked.example.test"},
                                     {"type", "AAAA"},
                                     {"decision", "deny"}},
                                    {{"event", "egress.decision"},
                                     {"via", "dns"},
                                     {"host", "asked.example.test"},
                                     {"type", "A"},
                                     {"decision", "deny"}},
                                    {{"event", "egress.dropped"},
                                     {"protocol", "udp"},
                                     {"address", "8.8.8.8"},
                                     {"port", 53},
                                     {"packets", 3}}});
  EXPECT_THAT(text, HasSubstr("#   asked.example.test (A, AAAA) x2\n"));
  EXPECT_THAT(text, HasSubstr("cannot be allowed"));
  EXPECT_THAT(text, HasSubstr("#   udp 8.8.8.8:53 x3 packets\n"));
  EXPECT_THAT(allow_rules(load(text)), IsEmpty());
  EXPECT_THAT(text, Not(HasSubstr("network:")));
}

TEST(SuggestPolicy, MemoryLimitFromThePeakUnlessTheBaseHasOne) {
  const nlohmann::json exit_event = {{"event", "sandbox.exit"},
                                     {"peak_memory_bytes", uint64_t{300} << 20}};
  EXPECT_THAT(suggest({exit_event}), HasSubstr("  max_memory_mb: 768\n"));  // 600 -> 768
  EXPECT_THAT(suggest({}), HasSubstr("  max_memory_mb: 512\n"));
  TemporaryFile base("version: 1\nname: mine\nprocess:\n  max_memory_mb: 2048\n");
  const std::string text = suggest({exit_event}, SuggestOptions{base.path(), std::nullopt, {}});
  EXPECT_EQ(load(text).process.max_memory_mb, 2048U);
}

TEST(SuggestPolicy, AFileBaseKeepsItsSectionsAndRules) {
  TemporaryFile base(
      "# my agent\nversion: 1\nname: mine\nworkspace: .\nnetwork:\n  mode: allowlist\n"
      "  allow:\n    - api.example.test:443  # the API\n  deny: [bad.example.test:443]\n"
      "  max_connections: 64\nprocess:\n  max_pids: 128\n");
  const std::string text = suggest({missing_rule("registry.example.test", 443, kCurl),
                                    missing_rule("bad.example.test", 443, kCurl)},
                                   SuggestOptions{base.path(), std::nullopt, {}});
  EXPECT_THAT(text, HasSubstr("comments are not kept"));
  const policy::Policy policy = load(text);
  EXPECT_EQ(policy.name, "mine");
  EXPECT_EQ(allow_rules(policy),
            (std::vector<std::string>{"api.example.test:443", "registry.example.test:443"}));
  EXPECT_EQ(policy.network.deny.size(), 1U);
  EXPECT_EQ(policy.network.max_connections, 64U);
  EXPECT_EQ(policy.process.max_pids, 128U);
  EXPECT_TRUE(policy.process.max_memory_mb.has_value());
  EXPECT_THAT(text, HasSubstr("bad.example.test:443 (curl x1): stays denied by the base's deny"));
  EXPECT_THAT(check_strict(text), IsEmpty());
}

TEST(SuggestPolicy, AFileBaseWithoutNetworkOrProcessSections) {
  TemporaryFile base("version: 1\nname: bare\n");
  const std::string text = suggest({missing_rule("registry.example.test", 443, kCurl)},
                                   SuggestOptions{base.path(), std::nullopt, {}});
  const policy::Policy policy = load(text);
  EXPECT_EQ(policy.name, "bare");
  EXPECT_EQ(allow_rules(policy), (std::vector<std::string>{"registry.example.test:443"}));
  EXPECT_THAT(check_strict(text), IsEmpty());
  // Nothing learned: the base's sections come through as they were.
  EXPECT_EQ(load(suggest({}, SuggestOptions{base.path(), std::nullopt, {}})).network.mode,
            policy::NetworkMode::deny_all);
}

TEST(SuggestPolicy, ABaseWithoutTheDefaultProfileGetsItsPidsLimit) {
  TemporaryFile base("version: 1\nname: alone\nextends: []\nfilesystem:\n  read_only: [/usr]\n");
  const std::string text = suggest({missing_rule("registry.example.test", 443, kCurl)},
                                   SuggestOptions{base.path(), std::nullopt, {}});
  const policy::Policy policy = load(text);
  EXPECT_EQ(policy.process.max_pids, 4096U);
  EXPECT_TRUE(policy.extends.empty());
  EXPECT_EQ(policy.filesystem.read_only.size(), 1U);
}

TEST(SuggestPolicy, HeaderNamesTheRecordingAndRun) {
  SuggestOptions options;
  options.recordings = {"/tmp/run.jsonl"};
  const std::string text = suggest({{{"event", "sandbox.start"},
                                     {"sandbox", {{"name", "default"}, {"id", "0123456789abcdef"}}},
                                     {"command", {"sh", "-c", "git clone https://x"}},
                                     {"observe", "deny"},
                                     {"time", "2026-12-03T08:59:19.419Z"}}},
                                   options);
  EXPECT_THAT(text, StartsWith("# Suggested by airlock suggest from /tmp/run.jsonl\n"
                               "# sandbox 0123456789abcdef (default, observe deny) started "
                               "2026-12-03T08:59:19.419Z: sh -c 'git clone https://x'\n"));
}

TEST(SuggestPolicy, RefusesAnUnknownBaseAndCollapseBelowTwo) {
  Result<std::string> unknown = suggest_policy({}, SuggestOptions{"/nonexistent/p.yaml", {}, {}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message, HasSubstr("neither a built-in profile"));
  Result<std::string> one = suggest_policy({}, SuggestOptions{"default", 1, {}});
  ASSERT_FALSE(one.ok());
  EXPECT_THAT(one.error().message, HasSubstr("--collapse 1"));
}

TEST(ReadAuditEvents, ABadLineIsAnErrorWithItsNumber) {
  TemporaryFile good("{\"event\":\"sandbox.start\"}\n\n{\"event\":\"sandbox.exit\"}\n");
  Result<std::vector<nlohmann::json>> events = read_audit_events(good.path());
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2U);
  TemporaryFile bad("{\"event\":\"sandbox.start\"}\n{\"event\": \n");
  Result<std::vector<nlohmann::json>> failed = read_audit_events(bad.path());
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().message, StartsWith(bad.path() + ":2: "));
  TemporaryFile not_event("[1, 2]\n");
  Result<std::vector<nlohmann::json>> array = read_audit_events(not_event.path());
  ASSERT_FALSE(array.ok());
  EXPECT_THAT(array.error().message, StartsWith(not_event.path() + ":1: "));
}

TEST(ObservationSummary, OneRowPerDestinationThenDnsDatagramsAndPrograms) {
  const std::string text = observation_summary(
      {missing_rule("api.example.test", 443, kGitClone),
       attempt("api.example.test", 443, "allow", "allowed", kGitClone, "http_connect"),
       missing_rule("registry.example.test", 443, kCurl),
       {{"event", "egress.decision"}, {"via", "dns"}, {"host", "only.example.test"}, {"type", "A"}},
       {{"event", "egress.dropped"}, {"protocol", "icmp"}, {"address", "1.1.1.1"}, {"packets", 2}},
       {{"event", "process.exec"}, {"path", "/usr/bin/git"}},
       {{"event", "process.exec"}, {"path", "/usr/bin/git"}},
       {{"event", "process.exec"}, {"path", "/usr/bin/curl"}}});
  EXPECT_THAT(text, HasSubstr("destination"));
  EXPECT_THAT(text, HasSubstr("api.example.test        443      2  http_connect,transparent  "
                              "allowed 1, denied 1  git (clone) x2\n"));
  EXPECT_THAT(text, HasSubstr("registry.example.test   443      1  transparent               "
                              "denied               curl x1\n"));
  EXPECT_THAT(text, HasSubstr("  only.example.test (A) x1\n"));
  EXPECT_THAT(text, HasSubstr("  icmp 1.1.1.1 x2 packets\n"));
  EXPECT_THAT(text, HasSubstr("      2  /usr/bin/git\n      1  /usr/bin/curl\n"));
}

}  // namespace
}  // namespace airlock::suggest
