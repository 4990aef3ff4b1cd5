// The capability table's rows (src/explain): what each policy shape means, which layer enforces
// it, and what a host without a cgroup or Landlock does not enforce. Hosts are fixed
// descriptions, so these tests mean the same on every machine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "explain/capability_table.h"
#include "explain/explain_json.h"
#include "explain/syscall_classes.h"
#include "policy/policy_loader.h"
#include "seccomp/filter_builder.h"

namespace airlock::explain {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

policy::Policy load(const std::string& yaml) {
  Result<policy::Policy> policy = policy::load_policy_text(yaml, "test.yaml");
  if (!policy) ADD_FAILURE() << policy.error().message;
  return policy ? *policy : policy::Policy{};
}

std::vector<CapabilityRow> rows_of(const CapabilityTable& table, const std::string& capability) {
  std::vector<CapabilityRow> rows;
  std::copy_if(table.rows.begin(), table.rows.end(), std::back_inserter(rows),
               [&](const CapabilityRow& row) { return row.capability == capability; });
  return rows;
}

// The one row of `capability` whose first target is `target`.
CapabilityRow row_for(const CapabilityTable& table, const std::string& capability,
                      const std::string& target) {
  for (const CapabilityRow& row : rows_of(table, capability)) {
    if (!row.targets.empty() && row.targets.front() == target) return row;
  }
  ADD_FAILURE() << "no " << capability << " row for " << target;
  return {};
}

HostSupport host_with_cgroups() {
  HostSupport host = fixed_host_support();
  host.memory = CgroupSupport{"cgroup-v2", ""};
  host.pids = CgroupSupport{"cgroup-v2", ""};
  return host;
}

constexpr const char* kAllowlist = R"(version: 1
name: t
network:
  mode: allowlist
  allow: ["*.example.com:443", api.example.net:443, "*.cdn.example.org:443", 10.0.0.0/8:5432]
  deny: [bad.example.com:443, "*.example.net:443", "*.cdn.example.org:443"]
)";

TEST(ExplainTest, WildcardMeansStrictlyBelowAndNamesTheDenyRulesThatCutIntoIt) {
  const CapabilityTable table = explain(load(kAllowlist), "test.yaml", fixed_host_support());
  const CapabilityRow row = row_for(table, "network.egress", "*.example.com:443");
  EXPECT_EQ(row.verdict, Verdict::granted);
  EXPECT_THAT(row.scope, HasSubstr("any name strictly below example.com"));
  EXPECT_THAT(row.scope, HasSubstr("never example.com itself"));
  EXPECT_THAT(row.scope, HasSubstr("except bad.example.com:443"));
  EXPECT_THAT(row.layers,
              ElementsAre(Layer::namespaces, Layer::nftables, Layer::dns_stub, Layer::proxy));
  EXPECT_EQ(row.source, "test.yaml:5:11");
}

TEST(ExplainTest, AllowRuleCoveredWholeByADenyRuleIsDeniedAndLeftOutOfDns) {
  const CapabilityTable table = explain(load(kAllowlist), "test.yaml", fixed_host_support());
  const CapabilityRow exact = row_for(table, "network.egress", "api.example.net:443");
  EXPECT_EQ(exact.verdict, Verdict::denied);
  EXPECT_THAT(exact.scope, HasSubstr("deny rule *.example.net:443 covers all of it"));
  const CapabilityRow wildcard = row_for(table, "network.egress", "*.cdn.example.org:443");
  EXPECT_EQ(wildcard.verdict, Verdict::denied);
  const CapabilityRow dns = rows_of(table, "network.dns").at(0);
  EXPECT_THAT(dns.targets, ElementsAre("*.example.com"));
}

TEST(ExplainTest, AddressRuleReachesAddressesOnlyAndInternalRangesStayDenied) {
  const CapabilityTable table = explain(load(kAllowlist), "test.yaml", fixed_host_support());
  const CapabilityRow cidr = row_for(table, "network.egress", "10.0.0.0/8:5432");
  EXPECT_EQ(cidr.verdict, Verdict::granted);
  EXPECT_THAT(cidr.scope, HasSubstr("no name reaches it through this rule"));
  EXPECT_THAT(cidr.layers, Not(Contains(Layer::dns_stub)));
  EXPECT_EQ(row_for(table, "network.egress", "internal-addresses").verdict, Verdict::denied);
  EXPECT_EQ(row_for(table, "network.egress", "dns-rebinding").verdict, Verdict::denied);
  EXPECT_EQ(row_for(table, "network.egress", "name-mismatch").verdict, Verdict::denied);
}

TEST(ExplainTest, DenyAllIsOneEgressRowEnforcedByTheNamespace) {
  const CapabilityTable table = explain(load("version: 1\nname: t\nnetwork: {mode: deny_all}\n"),
                                        "test.yaml", fixed_host_support());
  const std::vector<CapabilityRow> egress = rows_of(table, "network.egress");
  ASSERT_EQ(egress.size(), 1U);
  EXPECT_EQ(egress[0].verdict, Verdict::denied);
  EXPECT_THAT(egress[0].targets, ElementsAre("*"));
  EXPECT_THAT(egress[0].scope, HasSubstr("everything except the sandbox's own loopback"));
  EXPECT_THAT(egress[0].scope, HasSubstr("no interface but lo"));
  EXPECT_THAT(egress[0].layers, ElementsAre(Layer::namespaces));
  EXPECT_EQ(rows_of(table, "network.dns").at(0).verdict, Verdict::denied);
  EXPECT_THAT(table.run_refusals, IsEmpty());
}

constexpr const char* kLimits = R"(version: 1
name: t
process: {max_memory_mb: 512, max_pids: 64}
)";

TEST(ExplainTest, LimitsWithCgroupsAreEnforcedByThem) {
  const CapabilityTable table = explain(load(kLimits), "test.yaml", host_with_cgroups());
  const CapabilityRow memory = row_for(table, "process.limits", "memory=512MiB");
  EXPECT_EQ(memory.verdict, Verdict::limited);
  EXPECT_THAT(memory.layers, ElementsAre(Layer::cgroup));
  EXPECT_THAT(memory.not_enforced, IsEmpty());
  const CapabilityRow tasks = row_for(table, "process.limits", "tasks=64");
  EXPECT_THAT(tasks.layers, ElementsAre(Layer::cgroup, Layer::rlimit));
  EXPECT_THAT(tasks.scope, AllOf(HasSubstr("pids.max=64"), HasSubstr("RLIMIT_NPROC=65")));
  EXPECT_THAT(table.run_refusals, IsEmpty());
}

TEST(ExplainTest, LimitsWithoutCgroupsSayWhatIsNotEnforcedAndThatRunRefuses) {
  const CapabilityTable table = explain(load(kLimits), "test.yaml", fixed_host_support());
  const CapabilityRow memory = row_for(table, "process.limits", "memory=512MiB");
  EXPECT_THAT(memory.layers, IsEmpty());
  ASSERT_EQ(memory.not_enforced.size(), 1U);
  EXPECT_THAT(memory.not_enforced[0], HasSubstr("no memory cgroup for this user"));
  const CapabilityRow tasks = row_for(table, "process.limits", "tasks=64");
  EXPECT_THAT(tasks.layers, ElementsAre(Layer::rlimit));
  EXPECT_THAT(tasks.scope, HasSubstr("RLIMIT_NPROC=64"));
  EXPECT_THAT(tasks.not_enforced, ElementsAre(HasSubstr("no pids cgroup")));
  EXPECT_THAT(table.run_refusals, ElementsAre(HasSubstr("cannot enforce memory limit")));
}

TEST(ExplainTest, UnlimitedWhenThePolicySetsNoLimit) {
  const CapabilityTable table =
      explain(load("version: 1\nname: t\nextends: []\n"), "test.yaml", fixed_host_support());
  EXPECT_EQ(row_for(table, "process.limits", "memory=unlimited").verdict, Verdict::granted);
  EXPECT_EQ(row_for(table, "process.limits", "tasks=unlimited").verdict, Verdict::granted);
  EXPECT_THAT(table.run_refusals, IsEmpty());
}

TEST(ExplainTest, NoLandlockLeavesWritesToTheMountLayerAndRunRefuses) {
  HostSupport host = fixed_host_support();
  host.landlock_abi = 0;
  const CapabilityTable table = explain(load("version: 1\nname: t\n"), "test.yaml", host);
  const CapabilityRow write = rows_of(table, "filesystem.write").at(0);
  EXPECT_THAT(write.layers, ElementsAre(Layer::mount));
  EXPECT_THAT(write.not_enforced, ElementsAre(HasSubstr("does not offer it")));
  EXPECT_THAT(table.run_refusals, Contains(HasSubstr("cannot enforce landlock")));
}

TEST(ExplainTest, IdentityFollowsTheCaller) {
  HostSupport root = fixed_host_support();
  root.root = true;
  root.uid = 0;
  const policy::Policy policy = load("version: 1\nname: t\n");
  EXPECT_THAT(rows_of(explain(policy, "p", root), "identity").at(0).targets,
              ElementsAre("uid=65534", "gid=65534"));
  EXPECT_THAT(rows_of(explain(policy, "p", fixed_host_support()), "identity").at(0).targets,
              ElementsAre("uid=1000", "gid=1000"));
}

TEST(ExplainTest, CredentialRowsAndTheirInterceptedHosts) {
  const policy::Policy policy = load(R"(version: 1
name: t
network: {mode: allowlist, allow: ["*.example.com:443"]}
credentials:
  - {name: API_TOKEN, from: env:API_TOKEN, hosts: [api.example.com]}
  - {name: OTHER_KEY, from: env:OTHER_KEY, hosts: [other.example.org]}
)");
  const CapabilityTable table = explain(policy, "test.yaml", fixed_host_support());
  const CapabilityRow credential = rows_of(table, "credential.API_TOKEN").at(0);
  EXPECT_THAT(credential.targets, ElementsAre("api.example.com:443"));
  EXPECT_THAT(credential.layers, Contains(Layer::tls_interception));
  const CapabilityRow wildcard = row_for(table, "network.egress", "*.example.com:443");
  EXPECT_THAT(wildcard.scope, HasSubstr("credential API_TOKEN for api.example.com"));
  EXPECT_THAT(table.run_refusals,
              ElementsAre(HasSubstr("credential OTHER_KEY is bound to other.example.org:443")));
}

TEST(ExplainTest, PassedSecretsAreNotListedAsDropped) {
  const CapabilityTable table =
      explain(load("version: 1\nname: t\nprocess: {env: {pass: [GITHUB_TOKEN]}}\n"), "p",
              fixed_host_support());
  const std::vector<CapabilityRow> env = rows_of(table, "process.env");
  ASSERT_EQ(env.size(), 2U);
  EXPECT_THAT(env[1].targets, Not(Contains("GITHUB_TOKEN")));
  EXPECT_THAT(env[1].targets, Contains("OPENAI_API_KEY"));
  EXPECT_THAT(env[0].scope, HasSubstr("passed although secret-looking: GITHUB_TOKEN"));
}

// Every syscall the default filter refuses is in exactly one class, and every class name is
// one the filter refuses: a change to the filter shows up here first.
TEST(ExplainTest, SyscallClassesMatchTheDefaultFilter) {
  const std::vector<std::string>& refused = seccomp::default_denied_syscalls();
  for (const std::string& name : refused) {
    int classes = 0;
    for (const SyscallClass& family : syscall_classes()) {
      classes += static_cast<int>(std::count(family.names.begin(), family.names.end(), name));
    }
    EXPECT_EQ(classes, 1) << name;
  }
  for (const SyscallClass& family : syscall_classes()) {
    for (const std::string& name : family.names) EXPECT_THAT(refused, Contains(name));
  }
  const CapabilityTable table = explain(load("version: 1\nname: t\n"), "p", fixed_host_support());
  for (const CapabilityRow& row : rows_of(table, "syscalls")) {
    EXPECT_THAT(row.scope, Not(HasSubstr("not yet classified")));
    EXPECT_THAT(row.layers, Contains(Layer::seccomp));
  }
}

TEST(ExplainTest, JsonCarriesTheSchemaVersionAndEveryRow) {
  const CapabilityTable table = explain(load(kAllowlist), "test.yaml", fixed_host_support());
  const nlohmann::json json = to_json(table);
  EXPECT_EQ(json["schema"], "airlock.explain/v1");
  EXPECT_EQ(json["rows"].size(), table.rows.size());
  EXPECT_EQ(json["host"]["description"], "fixed");
  EXPECT_EQ(json["run"]["refused"], false);
  EXPECT_TRUE(json["rows"][0]["source"].is_string());
}

}  // namespace
}  // namespace airlock::explain
