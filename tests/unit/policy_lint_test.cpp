// airlock check's lint: for every rule, a policy that triggers it and one that does not, loaded
// from a real file with the real loader; the built-in profiles; the embedded host list; and the
// command's exit codes and output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "lint/known_endpoints.h"
#include "lint/policy_lint.h"
#include "policy/policy_loader.h"
#include "policy/profiles.h"

namespace airlock::lint {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Memory set, pids from the default: a policy that lints clean, to add one thing to.
constexpr char kClean[] = R"(version: 1
name: lint-test
process:
  max_memory_mb: 512
)";

class PolicyLint : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/airlock-lint-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string write(const std::string& text) {
    std::string path = directory_ + "/policy" + std::to_string(++files_) + ".yaml";
    std::ofstream(path) << text;
    return path;
  }

  std::vector<Finding> lint(const std::string& text) {
    const std::string path = write(text);
    Result<policy::Policy> loaded = policy::load_policy_file(path);
    if (!loaded) {
      ADD_FAILURE() << loaded.error().message;
      return {};
    }
    Result<std::vector<Finding>> findings = lint_policy(*loaded, path);
    if (!findings) {
      ADD_FAILURE() << findings.error().message;
      return {};
    }
    return *findings;
  }

  std::vector<std::string> codes(const std::string& text) {
    std::vector<std::string> out;
    for (const Finding& finding : lint(text)) out.push_back(finding.code);
    return out;
  }

  // kClean plus an allowlist with these entries (YAML list items, already indented).
  std::vector<std::string> allow(const std::string& items) {
    return codes(std::string(kClean) + "network:\n  mode: allowlist\n  allow:\n" + items);
  }

  std::string directory_;
  int files_ = 0;
};

TEST_F(PolicyLint, CleanPolicyHasNoFindings) {
  EXPECT_THAT(lint(kClean), IsEmpty());
  EXPECT_THAT(allow("    - api.example.com:443\n    - \"*.example.com:443\"\n"), IsEmpty());
}

TEST_F(PolicyLint, WildcardAtAPublicSuffix) {
  for (const char* rule : {"*.com", "*.co.uk", "*.googleapis.com", "*.cloudfront.net",
                           "*.githubusercontent.com", "*.github.io", "*.s3.amazonaws.com"}) {
    EXPECT_THAT(allow(std::string("    - \"") + rule + ":443\"\n"),
                Contains("network.wildcard-public-suffix"))
        << rule;
  }
  EXPECT_THAT(allow("    - \"*.example.co.uk:443\"\n"),
              Not(Contains("network.wildcard-public-suffix")));
  // An exact name equal to a public suffix is one host, not a wildcard.
  EXPECT_THAT(allow("    - storage.googleapis.com:443\n"), IsEmpty());
}

TEST_F(PolicyLint, WildcardAboveASharedTenantSuffix) {
  for (const char* rule : {"*.amazonaws.com", "*.blob.core.windows.net", "*.core.windows.net"}) {
    EXPECT_THAT(allow(std::string("    - \"") + rule + ":443\"\n"),
                Contains("network.wildcard-shared-tenant"))
        << rule;
  }
  // Below a tenant's own name: that tenant's hosts only.
  EXPECT_THAT(allow("    - \"*.mybucket.s3.eu-west-1.amazonaws.com:443\"\n"), IsEmpty());
}

TEST_F(PolicyLint, KnownDataSinkNeedsAComment) {
  EXPECT_THAT(allow("    - \"*.pinecone.io:443\"\n"), Contains("network.known-data-sink"));
  EXPECT_THAT(allow("    - index-abc.svc.us-east-1-aws.pinecone.io:443\n"),
              Contains("network.known-data-sink"));
  EXPECT_THAT(allow("    - statsig.anthropic.com:443\n"), Contains("network.known-data-sink"));
  EXPECT_THAT(allow("    - \"*.sentry.io:443\"\n"), Contains("network.known-data-sink"));
  // A comment on the line, above it, or above a run of entries says it is deliberate.
  EXPECT_THAT(allow("    - api.pinecone.io:443   # the RAG index lives there\n"), IsEmpty());
  EXPECT_THAT(allow("    # our error reports\n    - o1.ingest.sentry.io:443\n"), IsEmpty());
  EXPECT_THAT(allow("    # vector store and errors\n    - api.pinecone.io:443\n"
                    "    - o1.ingest.sentry.io:443\n"),
              IsEmpty());
  EXPECT_THAT(allow("    - api.example.com:443  # not this one\n    - api.pinecone.io:443\n"),
              Contains("network.known-data-sink"));
}

TEST_F(PolicyLint, AnyAddress) {
  EXPECT_THAT(allow("    - 0.0.0.0/0:443\n"), Contains("network.any-address"));
  EXPECT_THAT(allow("    - \"::/0:443\"\n"), Contains("network.any-address"));
  EXPECT_THAT(allow("    - 10.20.0.7:6379\n"), IsEmpty());
}

TEST_F(PolicyLint, MetadataAddress) {
  EXPECT_THAT(allow("    - 169.254.169.254:80\n"), Contains("network.metadata-address"));
  EXPECT_THAT(allow("    - 169.254.0.0/16:80\n"), Contains("network.metadata-address"));
  EXPECT_THAT(allow("    - \"[fd00:ec2::254]:80\"\n"), Contains("network.metadata-address"));
  EXPECT_THAT(allow("    - 169.254.1.0/24:80\n"), Not(Contains("network.metadata-address")));
}

TEST_F(PolicyLint, InternalRangeBroaderThanA24) {
  EXPECT_THAT(allow("    - 10.0.0.0/8:5432\n"), Contains("network.internal-range-too-broad"));
  EXPECT_THAT(allow("    - fd00::/64:5432\n"), Contains("network.internal-range-too-broad"));
  EXPECT_THAT(allow("    - 10.20.0.0/24:5432\n"), IsEmpty());
  EXPECT_THAT(allow("    - 192.168.1.10:5432\n"), IsEmpty());
}

TEST_F(PolicyLint, PublicAddressRule) {
  EXPECT_THAT(allow("    - 93.184.216.34:443\n"), Contains("network.address-rule"));
  EXPECT_THAT(allow("    - 203.0.113.0/24:443\n"), Contains("network.address-rule"));
  EXPECT_THAT(allow("    - example.com:443\n"), IsEmpty());
}

TEST_F(PolicyLint, InternalAllow) {
  const std::string base = std::string(kClean) + "network:\n  mode: allowlist\n  internal: ";
  EXPECT_THAT(codes(base + "allow\n"), Contains("network.internal-allowed"));
  EXPECT_THAT(codes(base + "deny\n"), IsEmpty());
}

TEST_F(PolicyLint, WritableStartupFiles) {
  const std::string base = std::string(kClean) + "filesystem:\n  read_write: [";
  for (const char* path : {"\"~\"", "~/.config", "~/.bashrc", "/home/someone",
                           "/srv/repo/.git/hooks", "/srv/repo/.git"}) {
    EXPECT_THAT(codes(base + path + "]\n"), Contains("filesystem.writable-startup-files")) << path;
  }
  EXPECT_THAT(codes(base + "~/.cache/tool, /srv/data, ~/.config/tool]\n"), IsEmpty());
}

TEST_F(PolicyLint, ExtendsWithoutTheDefault) {
  const std::string own = "version: 1\nname: own\nprocess: {max_memory_mb: 512, max_pids: 64}\n";
  EXPECT_THAT(codes(own + "extends: []\n"), Contains("policy.extends-drops-default"));
  EXPECT_THAT(codes(own + "extends: [default]\n"), IsEmpty());
  EXPECT_THAT(codes(own + "extends: [codex]\n"), IsEmpty());
}

TEST_F(PolicyLint, MissingLimits) {
  const std::string own = "version: 1\nname: own\nextends: [default]\n";
  EXPECT_THAT(codes(own), Contains("process.no-memory-limit"));
  EXPECT_THAT(codes(own), Not(Contains("process.no-pids-limit")));  // the default has 4096
  const std::vector<std::string> bare = codes("version: 1\nname: bare\nextends: []\n");
  EXPECT_THAT(bare, Contains("process.no-memory-limit"));
  EXPECT_THAT(bare, Contains("process.no-pids-limit"));
  EXPECT_THAT(codes(own + "process: {max_memory_mb: 1024}\n"), IsEmpty());
}

TEST_F(PolicyLint, PublishedSocketOpenToOthers) {
  const std::string base = std::string(kClean) + "publish:\n  - {unix: /run/a.sock, port: 8080";
  EXPECT_THAT(codes(base + ", mode: \"0666\"}\n"), Contains("publish.socket-open-to-others"));
  EXPECT_THAT(codes(base + ", mode: \"0600\"}\n"), Not(Contains("publish.socket-open-to-others")));
  EXPECT_THAT(codes(base + ", mode: \"0660\"}\n"), Not(Contains("publish.socket-open-to-others")));
}

TEST_F(PolicyLint, PublishedUidsTheModeRefuses) {
  const std::string base = std::string(kClean) + "publish:\n  - {unix: /run/a.sock, port: 8080";
  EXPECT_THAT(codes(base + ", uids: [1000]}\n"), Contains("publish.uids-cannot-connect"));
  EXPECT_THAT(codes(base + ", uids: [1000], mode: \"0660\"}\n"),
              Not(Contains("publish.uids-cannot-connect")));
  EXPECT_THAT(codes(base + "}\n"), Not(Contains("publish.uids-cannot-connect")));
}

TEST_F(PolicyLint, SecretsInThePlainEnvironment) {
  const std::string set = std::string(kClean) + "  env:\n    set:\n";
  EXPECT_THAT(codes(set + "      OPENAI_API_KEY: sk-proj-abcdefghijklmnopqrstuvwx\n"),
              Contains("environment.secret-value"));
  EXPECT_THAT(codes(set + "      SOME_SETTING: Zx9kQ2mP7vR4tY8wL3nB6cF1hJ5gD0sA\n"),
              Contains("environment.secret-value"));
  EXPECT_THAT(codes(set + "      MY_TOKEN: unset\n"), Contains("environment.secret-variable-set"));
  EXPECT_THAT(codes(set + "      MY_TOKEN: unset   # a feature flag, not a token\n"), IsEmpty());
  EXPECT_THAT(codes(set + "      DISABLE_TELEMETRY: \"1\"\n      PATH: /usr/bin:/bin\n"),
              IsEmpty());
  const std::string pass = std::string(kClean) + "  env:\n    pass: [";
  EXPECT_THAT(codes(pass + "GITHUB_TOKEN]\n"), Contains("environment.secret-variable-passed"));
  EXPECT_THAT(codes(pass + "LANG, TERM]\n"), IsEmpty());
}

TEST_F(PolicyLint, RunRefusalsAreWarningsAtTheirPlace) {
  const std::string path = write(std::string(kClean) + "network:\n  mode: observe\n");
  Result<policy::Policy> loaded = policy::load_policy_file(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  Result<std::vector<Finding>> findings = lint_policy(*loaded, path);
  ASSERT_TRUE(findings) << findings.error().message;
  ASSERT_EQ(findings->size(), 1U);
  const Finding& finding = findings->front();
  EXPECT_EQ(finding.code, "policy.refused-by-run");
  EXPECT_EQ(finding.severity, Severity::warning);
  EXPECT_EQ(finding.where.to_string(), path + ":6:9");
  EXPECT_THAT(finding.message, HasSubstr("network mode observe"));
}

TEST_F(PolicyLint, FindingsPointAtTheRuleAndAreSorted) {
  const std::string path =
      write(std::string(kClean) +
            "network:\n  mode: allowlist\n  allow:\n    - api.example.com:443\n"
            "    - \"*.com:443\"\n    - 0.0.0.0/0:443\n");
  Result<policy::Policy> loaded = policy::load_policy_file(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  Result<std::vector<Finding>> findings = lint_policy(*loaded, path);
  ASSERT_TRUE(findings) << findings.error().message;
  ASSERT_EQ(findings->size(), 2U);
  EXPECT_EQ((*findings)[0].where.to_string(), path + ":9:7");
  EXPECT_EQ((*findings)[0].severity, Severity::error);
  EXPECT_EQ((*findings)[1].where.to_string(), path + ":10:7");
  for (const Finding& finding : *findings) EXPECT_FALSE(finding.fix.empty());
}

// A syscall allowlist that cannot exec stays a validation error, not a lint finding.
TEST_F(PolicyLint, SyscallAllowlistThatCannotExecIsAnError) {
  Result<policy::Policy> loaded =
      policy::load_policy_file(write("version: 1\nname: s\nprocess:\n  syscalls: [read, write]\n"));
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message, HasSubstr("cannot start any program"));
}

// Built-in profiles lint clean except for the memory limit, which none of them sets: `airlock
// run` refuses a memory limit it cannot enforce (no writable memory cgroup), so a profile that
// set one would stop working for most unprivileged users. docs/lint.md says so.
TEST(PolicyLintProfiles, BuiltInProfilesHaveOnlyTheMemoryWarning) {
  for (const std::string& name : policy::builtin_profile_names()) {
    Result<policy::Policy> loaded = policy::load_profile(name);
    ASSERT_TRUE(loaded) << loaded.error().message;
    Result<std::vector<Finding>> findings = lint_policy(*loaded, "<profile " + name + ">");
    ASSERT_TRUE(findings) << findings.error().message;
    for (const Finding& finding : *findings) {
      EXPECT_EQ(finding.code, "process.no-memory-limit")
          << name << ": " << finding.where.to_string() << ": " << finding.message;
    }
  }
}

TEST(KnownHosts, EmbeddedListParsesAndCitesASource) {
  Result<const KnownHosts*> known = known_hosts();
  ASSERT_TRUE(known) << known.error().message;
  EXPECT_GE((*known)->endpoints.size(), 15U);
  for (const KnownEndpoint& endpoint : (*known)->endpoints) {
    EXPECT_FALSE(endpoint.source.empty()) << endpoint.host;
    Result<policy::Policy> as_rule =
        policy::load_policy_text("version: 1\nname: t\nnetwork:\n  mode: allowlist\n  allow: [\"" +
                                     endpoint.host + ":443\"]\n",
                                 "known.yaml");
    EXPECT_TRUE(as_rule) << endpoint.host << ": not a valid rule host";
  }
}

TEST(KnownHosts, EntriesWithoutASourceAreRefused) {
  const std::string suffix = "shared_tenant_suffixes:\n  - {suffix: a.test, why: w, source: s}\n";
  EXPECT_TRUE(parse_known_hosts(suffix + "endpoints:\n  - {host: b.test, kind: analytics, why: "
                                         "w, source: s}\n"));
  Result<KnownHosts> no_source =
      parse_known_hosts(suffix + "endpoints:\n  - {host: b.test, kind: analytics, why: w}\n");
  ASSERT_FALSE(no_source);
  EXPECT_THAT(no_source.error().message, HasSubstr("no 'source'"));
  EXPECT_FALSE(parse_known_hosts(
      suffix + "endpoints:\n  - {host: b.test, kind: cookies, why: w, source: s}\n"));
}

// The command: exit 0 clean (or warnings without --strict), 1 warnings under --strict, 2 errors.
class CheckCommand : public PolicyLint {
 protected:
  int check(const std::string& text, bool strict, bool json = false) {
    cli::CheckArguments arguments;
    arguments.policy_file = write(text);
    arguments.strict = strict;
    arguments.json = json;
    ::testing::internal::CaptureStdout();
    const int status = cli::check_command(arguments);
    output_ = ::testing::internal::GetCapturedStdout();
    return status;
  }
  std::string output_;
};

TEST_F(CheckCommand, ExitCodes) {
  EXPECT_EQ(check(kClean, true), 0);
  EXPECT_THAT(output_, HasSubstr("0 errors, 0 warnings\ncapabilities: airlock explain "));
  const std::string warned = "version: 1\nname: w\n";  // no memory limit
  EXPECT_EQ(check(warned, false), 0);
  EXPECT_EQ(check(warned, true), 1);
  EXPECT_THAT(output_, HasSubstr(":1:1: warning: [process.no-memory-limit] "));
  EXPECT_THAT(output_, HasSubstr("\n  fix: add process.max_memory_mb"));
  EXPECT_THAT(output_, HasSubstr("0 errors, 1 warning\n"));
  const std::string wild =
      std::string(kClean) + "network:\n  mode: allowlist\n  allow: [\"*.com:443\"]\n";
  EXPECT_EQ(check(wild, false), 2);
  EXPECT_THAT(output_, HasSubstr(".yaml:7:11: error: [network.wildcard-public-suffix] "));
  EXPECT_EQ(check("version: 1\nname: [unclosed\n", false), 2);
}

TEST_F(CheckCommand, JsonReport) {
  EXPECT_EQ(check("version: 1\nname: w\n", true, true), 1);
  const nlohmann::json report = nlohmann::json::parse(output_);
  EXPECT_EQ(report["schema"], "airlock.check/v1");
  EXPECT_EQ(report["ok"], false);
  ASSERT_EQ(report["findings"].size(), 1U);
  const nlohmann::json& finding = report["findings"][0];
  EXPECT_EQ(finding["code"], "process.no-memory-limit");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["line"], 1);
  EXPECT_EQ(finding["column"], 1);
  for (const char* key : {"file", "message", "fix"}) EXPECT_TRUE(finding.contains(key)) << key;
  EXPECT_EQ(report["policy"]["name"], "w");
  EXPECT_EQ(check(kClean, true, true), 0);
  EXPECT_EQ(nlohmann::json::parse(output_)["ok"], true);
}

}  // namespace
}  // namespace airlock::lint
