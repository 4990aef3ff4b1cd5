// make_launch_plan: the parent's pure planning step (no namespaces are created here). Each test
// builds a throw-away workspace and HOME under /tmp and restores HOME, PATH and the cwd after.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy_loader.h"
#include "sandbox/launch_plan.h"

namespace airlock::sandbox {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Restores an environment variable on scope exit.
class SavedVariable {
 public:
  explicit SavedVariable(const char* name) : name_(name) {
    const char* value = ::getenv(name);
    if (value != nullptr) value_ = value;
  }
  ~SavedVariable() {
    if (value_) {
      ::setenv(name_, value_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  SavedVariable(const SavedVariable&) = delete;
  SavedVariable& operator=(const SavedVariable&) = delete;

 private:
  const char* name_;
  std::optional<std::string> value_;
};

bool is_within(const std::string& path, const std::string& ancestor) {
  if (ancestor == "/") return true;
  return path == ancestor ||
         (path.size() > ancestor.size() && path.compare(0, ancestor.size(), ancestor) == 0 &&
          path[ancestor.size()] == '/');
}

class LaunchPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/airlock-plan-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = fs::canonical(pattern).string();
    home_ = root_ + "/home";
    workspace_ = root_ + "/ws";
    fs::create_directories(home_);
    fs::create_directories(workspace_);
    ASSERT_EQ(::setenv("HOME", home_.c_str(), 1), 0);
    char cwd[PATH_MAX];
    ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
    cwd_ = cwd;
    Result<policy::Policy> loaded = policy::load_profile("default");
    ASSERT_TRUE(loaded) << loaded.error().message;
    default_policy_ = *loaded;
  }

  void TearDown() override {
    ASSERT_EQ(::chdir(cwd_.c_str()), 0);
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  Result<LaunchPlan> plan(const policy::Policy& policy, std::optional<std::string> workspace,
                          std::vector<std::string> argv = {"true"}) {
    return make_launch_plan(RunRequest{policy, std::move(workspace), std::move(argv), {}, {}});
  }
  Result<LaunchPlan> plan_default() { return plan(default_policy_, workspace_); }

  static policy::Policy load(const std::string& text) {
    Result<policy::Policy> loaded = policy::load_policy_text(text, "p.yaml");
    EXPECT_TRUE(loaded) << loaded.error().message;
    return loaded ? *loaded : policy::Policy{};
  }

  static void touch(const std::string& path) { std::ofstream(path) << "x\n"; }

  static std::vector<const MountStep*> steps(const LaunchPlan& plan, MountKind kind) {
    std::vector<const MountStep*> out;
    for (const MountStep& step : plan.mounts) {
      if (step.kind == kind) out.push_back(&step);
    }
    return out;
  }
  static std::vector<std::string> insides(const LaunchPlan& plan, MountKind kind) {
    std::vector<std::string> out;
    for (const MountStep* step : steps(plan, kind)) out.push_back(step->inside);
    return out;
  }
  // Index of the first step of `kind` at `inside`, or -1.
  static long index_of(const LaunchPlan& plan, MountKind kind, const std::string& inside) {
    for (size_t i = 0; i < plan.mounts.size(); ++i) {
      if (plan.mounts[i].kind == kind && plan.mounts[i].inside == inside)
        return static_cast<long>(i);
    }
    return -1;
  }
  static std::string dump(const LaunchPlan& plan) {
    std::string out;
    for (const MountStep& step : plan.mounts) {
      out += "  " + std::to_string(static_cast<int>(step.kind)) + " " + step.inside + "\n";
    }
    return out;
  }

  std::string root_;
  std::string home_;
  std::string workspace_;
  std::string cwd_;
  policy::Policy default_policy_;
  SavedVariable saved_home_{"HOME"};
  SavedVariable saved_path_{"PATH"};
  SavedVariable saved_id_{"AIRLOCK_SANDBOX_ID"};
};

// ---------------------------------------------------------------------------------------------
// Workspaces that would undo the other layers

TEST_F(LaunchPlanTest, RootAndSystemDirectoriesAreRefusedAsWorkspace) {
  for (const auto& [workspace, system] :
       std::vector<std::pair<std::string, std::string>>{{"/", "/usr"},
                                                        {"/usr", "/usr"},
                                                        {"/usr/share", "/usr"},
                                                        {"/etc", "/etc"},
                                                        {"/proc", "/proc"},
                                                        {"/dev", "/dev"}}) {
    Result<LaunchPlan> result = plan(default_policy_, workspace);
    ASSERT_FALSE(result) << "workspace " << workspace << " was accepted";
    EXPECT_EQ(result.error().message,
              "workspace " + workspace + " would make the system directory " + system +
                  " writable; run airlock from a project directory or pass --workspace DIR");
  }
}

TEST_F(LaunchPlanTest, SymlinkToSystemDirectoryIsRefused) {
  const std::string link = root_ + "/looks-harmless";
  ASSERT_EQ(::symlink("/etc", link.c_str()), 0);
  Result<LaunchPlan> result = plan(default_policy_, link);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message,
              StartsWith("workspace /etc would make the system directory /etc writable"));
}

TEST_F(LaunchPlanTest, SystemWorkspaceFromThePolicyIsLocated) {
  policy::Policy policy = load("version: 1\nname: t\nworkspace: /usr/lib\n");
  Result<LaunchPlan> result = plan(policy, std::nullopt);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "p.yaml:3:12: workspace /usr/lib would make the system directory /usr writable; run "
            "airlock from a project directory or pass --workspace DIR");
}

TEST_F(LaunchPlanTest, MissingWorkspaceIsAnError) {
  Result<LaunchPlan> result = plan(default_policy_, root_ + "/nope");
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, StartsWith("workspace " + root_ + "/nope cannot be used: "));
}

TEST_F(LaunchPlanTest, WorkspaceInsideHiddenPathIsRefused) {
  const std::string inside_ssh = home_ + "/.ssh/project";
  fs::create_directories(inside_ssh);
  Result<LaunchPlan> result = plan(default_policy_, inside_ssh);
  ASSERT_FALSE(result) << "a workspace inside ~/.ssh was accepted";
  ASSERT_FALSE(default_policy_.filesystem.hidden.empty());
  const policy::PathEntry& ssh = default_policy_.filesystem.hidden.front();
  ASSERT_EQ(ssh.path, "~/.ssh");
  EXPECT_EQ(result.error().message, ssh.where.to_string() + ": workspace " + inside_ssh +
                                        " is inside hidden path " + home_ +
                                        "/.ssh; choose another workspace");

  // The hidden directory itself is no better.
  fs::create_directories(home_ + "/.aws");
  Result<LaunchPlan> aws = plan(default_policy_, home_ + "/.aws");
  ASSERT_FALSE(aws);
  EXPECT_THAT(aws.error().message, HasSubstr("is inside hidden path " + home_ + "/.aws"));
}

TEST_F(LaunchPlanTest, MissingReadWritePathIsLocated) {
  const std::string missing = root_ + "/not-there";
  policy::Policy policy =
      load("version: 1\nname: t\nfilesystem:\n  read_write: [" + missing + "]\n");
  Result<LaunchPlan> result = plan(policy, workspace_);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message,
              StartsWith("p.yaml:4:16: read_write path " + missing + " cannot be used: "));
  EXPECT_THAT(result.error().message, HasSubstr("create it first or remove it"));
  EXPECT_EQ(result.error().message.find('\n'), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Mount order

TEST_F(LaunchPlanTest, DefaultPlanHasTheExpectedLayers) {
  Result<LaunchPlan> result = plan_default();
  ASSERT_TRUE(result) << result.error().message;
  const LaunchPlan& plan = *result;
  EXPECT_EQ(plan.workspace, workspace_);
  EXPECT_EQ(plan.home, home_);
  ASSERT_THAT(insides(plan, MountKind::tmpfs), ElementsAre("/tmp", "/run", home_));
  ASSERT_THAT(insides(plan, MountKind::workspace), ElementsAre(workspace_));
  // /usr is read-only (a real directory on every layout this runs on).
  EXPECT_NE(index_of(plan, MountKind::bind_read_only, "/usr"), -1) << dump(plan);
  EXPECT_TRUE(insides(plan, MountKind::bind_read_write).empty());
  const MountStep* workspace = steps(plan, MountKind::workspace).front();
  EXPECT_EQ(workspace->source, "/oldroot" + workspace_);
  EXPECT_EQ(workspace->target, "/newroot" + workspace_);
  const MountStep* tmp = steps(plan, MountKind::tmpfs).front();
  EXPECT_EQ(tmp->target, "/newroot/tmp");
  EXPECT_THAT(tmp->options, StartsWith("mode=1777"));
  // A freshly made workspace has nothing to protect and nothing to hide.
  EXPECT_TRUE(steps(plan, MountKind::protect).empty());
  EXPECT_TRUE(steps(plan, MountKind::pin).empty());
  EXPECT_TRUE(steps(plan, MountKind::hide).empty());
  EXPECT_THAT(plan.protect_absent, Contains(".git/hooks"));
  EXPECT_THAT(plan.protect_absent, Contains(".bashrc"));
  EXPECT_EQ(plan.working_directory, workspace_);  // the test's cwd is elsewhere

  // Writes are allowed by Landlock only where the mounts are writable.
  auto writable = [&plan](const std::string& path) {
    return std::any_of(plan.landlock_rules.begin(), plan.landlock_rules.end(),
                       [&](const LandlockRule& rule) {
                         return rule.path == path && rule.access == LandlockAccess::read_write;
                       });
  };
  EXPECT_TRUE(writable(workspace_));
  EXPECT_TRUE(writable("/tmp"));
  EXPECT_TRUE(writable(home_));
  EXPECT_FALSE(writable("/usr"));
  EXPECT_FALSE(writable("/etc"));
  EXPECT_FALSE(writable("/"));
}

TEST_F(LaunchPlanTest, HomeTmpfsIsOwnedByTheSandboxUserWhenStartedByRoot) {
  Result<LaunchPlan> result = plan_default();
  ASSERT_TRUE(result) << result.error().message;
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_TRUE(result->started_by_root);
  EXPECT_EQ(result->sandbox_uid, kSandboxUid);
  long home = index_of(*result, MountKind::tmpfs, home_);
  ASSERT_NE(home, -1);
  EXPECT_EQ(result->mounts[static_cast<size_t>(home)].options, "mode=0700,uid=65534,gid=65534");
  // /tmp is shared by everyone and keeps root's ownership with the sticky bit.
  ASSERT_FALSE(result->mounts.empty());
  EXPECT_EQ(result->mounts[0].inside, "/tmp");
  EXPECT_EQ(result->mounts[0].options, "mode=1777");
}

TEST_F(LaunchPlanTest, MountsAreOrderedParentsBeforeChildren) {
  fs::create_directories(home_ + "/data");
  fs::create_directories(workspace_ + "/vendor");
  fs::create_directories(workspace_ + "/.git/hooks");
  // Listed child-first on purpose: the plan must reorder.
  policy::Policy policy = load("version: 1\nname: t\nfilesystem:\n  read_only: [" + workspace_ +
                               "/vendor]\n  read_write: [" + home_ + "/data, " + root_ + "]\n");
  Result<LaunchPlan> result = plan(policy, workspace_);
  ASSERT_TRUE(result) << result.error().message;
  const LaunchPlan& plan = *result;

  long home_tmpfs = index_of(plan, MountKind::tmpfs, home_);
  // Started by root, read_write paths of the workspace's owner (all made by this test) are
  // idmapped like the workspace.
  const MountKind read_write =
      ::geteuid() == 0 ? MountKind::owned_read_write : MountKind::bind_read_write;
  long data_bind = index_of(plan, read_write, home_ + "/data");
  long root_bind = index_of(plan, read_write, root_);
  long workspace = index_of(plan, MountKind::workspace, workspace_);
  long vendor = index_of(plan, MountKind::bind_read_only, workspace_ + "/vendor");
  long tmp = index_of(plan, MountKind::tmpfs, "/tmp");
  ASSERT_TRUE(home_tmpfs >= 0 && data_bind >= 0 && root_bind >= 0 && workspace >= 0 &&
              vendor >= 0 && tmp >= 0)
      << dump(plan);
  EXPECT_LT(home_tmpfs, data_bind) << dump(plan);  // the bind inside HOME lands on the tmpfs
  EXPECT_LT(tmp, root_bind) << dump(plan);
  EXPECT_LT(root_bind, home_tmpfs) << dump(plan);
  EXPECT_LT(root_bind, workspace) << dump(plan);
  EXPECT_LT(workspace, vendor) << dump(plan);  // read-only vendor/ on top of the workspace

  // The general rule, over every pair of steps.
  for (size_t i = 0; i < plan.mounts.size(); ++i) {
    for (size_t j = i + 1; j < plan.mounts.size(); ++j) {
      const std::string& earlier = plan.mounts[i].inside;
      const std::string& later = plan.mounts[j].inside;
      EXPECT_FALSE(earlier != later && is_within(earlier, later))
          << later << " (step " << j << ") is a parent of " << earlier << " (step " << i
          << ") but comes after it:\n"
          << dump(plan);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Protected and hidden paths inside the workspace

TEST_F(LaunchPlanTest, ProtectPinsGitAndProtectsHooksAndConfig) {
  fs::create_directories(workspace_ + "/.git/hooks");
  touch(workspace_ + "/.git/config");
  touch(workspace_ + "/.bashrc");
  Result<LaunchPlan> result = plan_default();
  ASSERT_TRUE(result) << result.error().message;
  const LaunchPlan& plan = *result;

  ASSERT_THAT(insides(plan, MountKind::pin), ElementsAre(workspace_ + "/.git")) << dump(plan);
  ASSERT_THAT(
      insides(plan, MountKind::protect),
      ElementsAre(workspace_ + "/.git/hooks", workspace_ + "/.git/config", workspace_ + "/.bashrc"))
      << dump(plan);
  const MountStep* pin = steps(plan, MountKind::pin).front();
  EXPECT_EQ(pin->source, "/newroot" + workspace_ + "/.git");
  EXPECT_EQ(pin->target, pin->source);
  std::vector<const MountStep*> protect = steps(plan, MountKind::protect);
  EXPECT_TRUE(protect[0]->is_directory);
  EXPECT_FALSE(protect[1]->is_directory);
  EXPECT_EQ(protect[1]->source, "/newroot" + workspace_ + "/.git/config");
  EXPECT_EQ(protect[1]->target, protect[1]->source);
  // The pin and the protections sit on top of the workspace, the pin before what it holds.
  long workspace = index_of(plan, MountKind::workspace, workspace_);
  long git = index_of(plan, MountKind::pin, workspace_ + "/.git");
  EXPECT_LT(workspace, git);
  EXPECT_LT(git, index_of(plan, MountKind::protect, workspace_ + "/.git/hooks"));
  EXPECT_LT(git, index_of(plan, MountKind::protect, workspace_ + "/.git/config"));

  EXPECT_THAT(plan.protect_absent, Not(Contains(".git/hooks")));
  EXPECT_THAT(plan.protect_absent, Not(Contains(".git/config")));
  EXPECT_THAT(plan.protect_absent, Not(Contains(".bashrc")));
  EXPECT_THAT(plan.protect_absent, Contains(".zshrc"));
  // Protected paths are not writable to Landlock either.
  for (const LandlockRule& rule : plan.landlock_rules) {
    if (rule.access == LandlockAccess::read_write) {
      EXPECT_FALSE(is_within(rule.path, workspace_ + "/.git")) << rule.path;
    }
  }
}

TEST_F(LaunchPlanTest, MissingHooksDirectoryIsCreatedThenProtected) {
  fs::create_directories(workspace_ + "/.git");
  Result<LaunchPlan> result = plan_default();
  ASSERT_TRUE(result) << result.error().message;
  struct stat info {};
  ASSERT_EQ(::stat((workspace_ + "/.git/hooks").c_str(), &info), 0) << "hooks dir not created";
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0755U);
  EXPECT_NE(index_of(*result, MountKind::protect, workspace_ + "/.git/hooks"), -1) << dump(*result);
  EXPECT_NE(index_of(*result, MountKind::pin, workspace_ + "/.git"), -1) << dump(*result);
  EXPECT_THAT(result->protect_absent, Not(Contains(".git/hooks")));
  EXPECT_THAT(result->protect_absent, Contains(".git/config"));
}

TEST_F(LaunchPlanTest, NoGitDirectoryMeansNoHooksDirectory) {
  Result<LaunchPlan> result = plan_default();
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_FALSE(fs::exists(workspace_ + "/.git"));
  EXPECT_THAT(result->protect_absent, Contains(".git/hooks"));

  // A .git *file* (a worktree or submodule pointer) is not a git directory either.
  touch(workspace_ + "/.git");
  Result<LaunchPlan> with_file = plan_default();
  ASSERT_TRUE(with_file) << with_file.error().message;
  EXPECT_FALSE(fs::exists(workspace_ + "/.git/hooks"));
  EXPECT_THAT(with_file->protect_absent, Contains(".git/hooks"));
  EXPECT_TRUE(steps(*with_file, MountKind::pin).empty());
}

TEST_F(LaunchPlanTest, HiddenPathsInsideTheWorkspaceAreHidden) {
  // HOME is the workspace: ~/.ssh is then inside a writable, visible tree.
  ASSERT_EQ(::setenv("HOME", workspace_.c_str(), 1), 0);
  fs::create_directories(workspace_ + "/.ssh");
  touch(workspace_ + "/.ssh/id_ed25519");
  touch(workspace_ + "/.netrc");
  Result<LaunchPlan> result = plan_default();
  ASSERT_TRUE(result) << result.error().message;
  const LaunchPlan& plan = *result;

  ASSERT_THAT(insides(plan, MountKind::hide),
              ElementsAre(workspace_ + "/.ssh", workspace_ + "/.netrc"))
      << dump(plan);
  std::vector<const MountStep*> hide = steps(plan, MountKind::hide);
  EXPECT_TRUE(hide[0]->is_directory);
  EXPECT_FALSE(hide[1]->is_directory);
  EXPECT_EQ(hide[0]->target, "/newroot" + workspace_ + "/.ssh");
  // No private HOME tmpfs: HOME is the workspace itself.
  EXPECT_EQ(index_of(plan, MountKind::tmpfs, workspace_), -1);
  // Hidden entries come after everything they could be under.
  EXPECT_LT(index_of(plan, MountKind::workspace, workspace_),
            index_of(plan, MountKind::hide, workspace_ + "/.ssh"));
  EXPECT_EQ(plan.mounts.back().kind, MountKind::hide);
}

TEST_F(LaunchPlanTest, HiddenPathUnderAnExposedReadOnlyTreeIsHidden) {
  fs::create_directories(home_ + "/.config/gh");
  touch(home_ + "/.config/gh/hosts.yml");
  policy::Policy policy = load("version: 1\nname: t\nfilesystem:\n  read_only: [~/.config]\n");
  Result<LaunchPlan> result = plan(policy, workspace_);
  ASSERT_TRUE(result) << result.error().message;
  long bind = index_of(*result, MountKind::bind_read_only, home_ + "/.config");
  long hide = index_of(*result, MountKind::hide, home_ + "/.config/gh");
  ASSERT_NE(bind, -1) << dump(*result);
  ASSERT_NE(hide, -1) << "~/.config/gh is visible through read_only ~/.config\n" << dump(*result);
  EXPECT_LT(bind, hide);
  // ~/.ssh does not exist and the rest of HOME is a private tmpfs: nothing else to hide.
  EXPECT_EQ(steps(*result, MountKind::hide).size(), 1U) << dump(*result);
}

// ---------------------------------------------------------------------------------------------
// What the child will exec, with which environment and limits

TEST_F(LaunchPlanTest, ExecCandidatesFollowPath) {
  ASSERT_EQ(::setenv("PATH", "/opt/tools/bin:relative/bin::/usr/bin", 1), 0);
  Result<LaunchPlan> result = plan(default_policy_, workspace_, {"mytool", "--flag"});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_THAT(result->exec_candidates, ElementsAre("/opt/tools/bin/mytool", "/usr/bin/mytool"));
  EXPECT_THAT(result->argv, ElementsAre("mytool", "--flag"));

  Result<LaunchPlan> with_slash = plan(default_policy_, workspace_, {"./build/run.sh"});
  ASSERT_TRUE(with_slash) << with_slash.error().message;
  EXPECT_THAT(with_slash->exec_candidates, ElementsAre("./build/run.sh"));

  ASSERT_EQ(::unsetenv("PATH"), 0);
  Result<LaunchPlan> no_path = plan(default_policy_, workspace_, {"git"});
  ASSERT_TRUE(no_path) << no_path.error().message;
  EXPECT_THAT(no_path->exec_candidates,
              ElementsAre("/usr/local/bin/git", "/usr/bin/git", "/bin/git"));
}

TEST_F(LaunchPlanTest, EnvironmentCarriesTheSandboxIdentityAndNoSpoofedOne) {
  ASSERT_EQ(::setenv("AIRLOCK_SANDBOX_ID", "spoofed", 1), 0);
  Result<LaunchPlan> first = plan_default();
  Result<LaunchPlan> second = plan_default();
  ASSERT_TRUE(first && second);
  EXPECT_THAT(first->sandbox_id, ::testing::MatchesRegex("[0-9a-f]{16}"));
  EXPECT_NE(first->sandbox_id, second->sandbox_id);
  EXPECT_THAT(first->environment, Not(Contains("AIRLOCK_SANDBOX_ID=spoofed")));
  EXPECT_THAT(first->environment, Contains("AIRLOCK_SANDBOX_ID=" + first->sandbox_id));
  EXPECT_THAT(first->environment, Contains("AIRLOCK_SANDBOX_NAME=default"));
  EXPECT_THAT(first->environment, Contains("HOME=" + home_));
  EXPECT_THAT(first->policy_sha256, ::testing::MatchesRegex("[0-9a-f]{64}"));
}

TEST_F(LaunchPlanTest, SecretLookingVariablesStayOutUnlessPassedAndSetOnesWin) {
  SavedVariable key("ANTHROPIC_API_KEY"), token("GITHUB_TOKEN"), editor("EDITOR");
  ASSERT_EQ(::setenv("ANTHROPIC_API_KEY", "sk-ant-real", 1), 0);
  ASSERT_EQ(::setenv("GITHUB_TOKEN", "ghp_real", 1), 0);
  ASSERT_EQ(::setenv("EDITOR", "vi", 1), 0);
  policy::Policy policy = load(
      "version: 1\nname: t\nprocess:\n  env:\n    pass: [GITHUB_TOKEN]\n"
      "    set: {EDITOR: nano, DISABLE_TELEMETRY: \"1\"}\n");
  Result<LaunchPlan> result = plan(policy, workspace_);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_THAT(result->dropped_variables, Contains("ANTHROPIC_API_KEY"));
  EXPECT_THAT(result->dropped_variables, Not(Contains("GITHUB_TOKEN")));
  EXPECT_THAT(result->environment, Not(Contains("ANTHROPIC_API_KEY=sk-ant-real")));
  EXPECT_THAT(result->environment, Contains("GITHUB_TOKEN=ghp_real"));
  EXPECT_THAT(result->environment, Contains("EDITOR=nano"));
  EXPECT_THAT(result->environment, Not(Contains("EDITOR=vi")));
  EXPECT_THAT(result->environment, Contains("DISABLE_TELEMETRY=1"));
}

TEST_F(LaunchPlanTest, CredentialsGivePlaceholdersEndpointsAndTheTrustBundle) {
  policy::Policy policy = load("version: 1\nname: t\nnetwork:\n  mode: allowlist\n");
  CredentialView view;
  view.environment = {"ANTHROPIC_API_KEY=sk-ant-placeholder",
                      "ANTHROPIC_BASE_URL=http://127.0.0.1:15100"};
  view.endpoint_ports = {15100};
  view.trust_bundle_path = workspace_ + "/bundle.crt";
  touch(view.trust_bundle_path);
  Result<LaunchPlan> result =
      make_launch_plan(RunRequest{policy, workspace_, {"/bin/true"}, view, {}});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_THAT(result->environment, Contains("ANTHROPIC_API_KEY=sk-ant-placeholder"));
  EXPECT_THAT(result->environment,
              Contains("NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"));
  EXPECT_THAT(result->environment, Contains("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"));
  EXPECT_EQ(result->egress.endpoint_ports, std::vector<uint16_t>{15100});
  char system_bundle[PATH_MAX];
  ASSERT_NE(::realpath("/etc/ssl/certs/ca-certificates.crt", system_bundle), nullptr);
  bool bundle = false;
  for (const MountStep& step : result->mounts) {
    bundle = bundle || (step.kind == MountKind::bind_read_only && step.inside == system_bundle &&
                        step.source == "/oldroot" + view.trust_bundle_path);
  }
  EXPECT_TRUE(bundle) << "the system bundle is not replaced, read-only, by the run's bundle file";
  // An allow rule cannot carry an endpoint's port to the host.
  policy::Policy clash =
      load("version: 1\nname: t\nnetwork:\n  mode: allowlist\n  allow: [\"localhost:15100\"]\n");
  Result<LaunchPlan> refused =
      make_launch_plan(RunRequest{clash, workspace_, {"/bin/true"}, view, {}});
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("where airlock's own proxy listens"));
}

TEST_F(LaunchPlanTest, LimitsAndSeccompProgramsComeFromThePolicy) {
  Result<LaunchPlan> defaults = plan_default();
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_FALSE(defaults->seccomp_default.empty());
  EXPECT_TRUE(defaults->seccomp_allowlist.empty());
  EXPECT_EQ(defaults->max_pids, default_policy_.process.max_pids);
  EXPECT_FALSE(defaults->max_memory_bytes.has_value());

  policy::Policy policy = load(
      "version: 1\nname: t\nprocess:\n  max_memory_mb: 64\n  max_pids: 32\n  timeout: 5m\n"
      "  syscalls: [execve, brk, arch_prctl, mmap, munmap, mprotect, openat, read, close, "
      "newfstatat, pread64, access, set_tid_address, set_robust_list, rseq, prlimit64, getrandom, "
      "exit_group, fstat, write]\n");
  Result<LaunchPlan> result = plan(policy, workspace_);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->max_memory_bytes, std::optional<uint64_t>(64ULL * 1024 * 1024));
  EXPECT_EQ(result->max_pids, std::optional<uint32_t>(32));
  EXPECT_EQ(result->timeout_seconds, std::optional<uint64_t>(300));
  EXPECT_FALSE(result->seccomp_default.empty());
  EXPECT_FALSE(result->seccomp_allowlist.empty());
}

TEST_F(LaunchPlanTest, WorkingDirectoryIsTheCallersWhenInsideTheWorkspace) {
  fs::create_directories(workspace_ + "/src/lib");
  ASSERT_EQ(::chdir((workspace_ + "/src/lib").c_str()), 0);
  Result<LaunchPlan> inside = plan_default();
  ASSERT_TRUE(inside) << inside.error().message;
  EXPECT_EQ(inside->working_directory, workspace_ + "/src/lib");

  // The policy's default workspace "." is the caller's directory.
  Result<LaunchPlan> dot = plan(default_policy_, std::nullopt);
  ASSERT_TRUE(dot) << dot.error().message;
  EXPECT_EQ(dot->workspace, workspace_ + "/src/lib");

  ASSERT_EQ(::chdir(root_.c_str()), 0);
  Result<LaunchPlan> outside = plan_default();
  ASSERT_TRUE(outside) << outside.error().message;
  EXPECT_EQ(outside->working_directory, workspace_);
}

}  // namespace
}  // namespace airlock::sandbox

namespace airlock::sandbox {
namespace {

// ---------------------------------------------------------------------------------------------
// publish entries

TEST_F(LaunchPlanTest, PublishWithoutPortGetsAPrivateDirectoryInside) {
  policy::Policy policy = load("version: 1\nname: t\npublish:\n  - unix: /run/agent/api.sock\n");
  Result<LaunchPlan> result = plan(policy, workspace_);
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->publish_directories.size(), 1U);
  EXPECT_EQ(result->publish_directories[0].inside, "/run/agent");
  EXPECT_EQ(result->publish_directories[0].socket_name, "api.sock");
  EXPECT_NE(index_of(*result, MountKind::bind_read_write, "/run/agent"), -1) << dump(*result);
}

// ---------------------------------------------------------------------------------------------
// links of a stack (airlock up)

TEST_F(LaunchPlanTest, LinkNamesGoIntoHostsAfterEtcAndBypassTheProxy) {
  policy::Policy policy =
      load("version: 1\nname: t\nnetwork:\n  mode: allowlist\n  allow: [example.com:443]\n");
  Result<LaunchPlan> result =
      make_launch_plan(RunRequest{policy,
                                  workspace_,
                                  {"/bin/true"},
                                  {},
                                  {{"vectordb", "127.100.0.1"}, {"signer", "127.100.0.3"}}});
  ASSERT_TRUE(result) << result.error().message;
  const long hosts = index_of(*result, MountKind::file, "/etc/hosts");
  ASSERT_NE(hosts, -1) << dump(*result);
  EXPECT_LT(index_of(*result, MountKind::bind_read_only, "/etc"), hosts) << dump(*result);
  const std::string& content = result->mounts[static_cast<size_t>(hosts)].source;
  EXPECT_THAT(content, HasSubstr("127.0.0.1\tlocalhost\n"));
  EXPECT_THAT(content, HasSubstr("127.100.0.1\tvectordb\n"));
  EXPECT_THAT(content, HasSubstr("127.100.0.3\tsigner\n"));
  EXPECT_THAT(result->environment, Contains("NO_PROXY=localhost,127.0.0.1,::1,vectordb,signer"));

  Result<LaunchPlan> unlinked = plan(policy, workspace_);
  ASSERT_TRUE(unlinked) << unlinked.error().message;
  EXPECT_EQ(index_of(*unlinked, MountKind::file, "/etc/hosts"), -1) << dump(*unlinked);
}

TEST_F(LaunchPlanTest, PublishWithoutPortOutsideRunOrTmpIsRefused) {
  policy::Policy policy = load("version: 1\nname: t\npublish:\n  - unix: /var/agent/api.sock\n");
  Result<LaunchPlan> result = plan(policy, workspace_);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message,
              StartsWith("p.yaml:4:5: publish /var/agent/api.sock without a port: "));
}

TEST_F(LaunchPlanTest, PublishedSocketNameTooLongToReachIsRefused) {
  const std::string name(90, 's');
  policy::Policy policy = load("version: 1\nname: t\npublish:\n  - unix: /run/a/" + name + "\n");
  Result<LaunchPlan> result = plan(policy, workspace_);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("is too long to reach from the host through"));
}

TEST_F(LaunchPlanTest, PublishedPortTakenByALocalhostRuleIsRefused) {
  policy::Policy policy = load(
      "version: 1\nname: t\nnetwork:\n  mode: allowlist\n  allow: [localhost:8080]\n"
      "publish:\n  - {unix: /run/a.sock, port: 8080}\n");
  Result<LaunchPlan> result = plan(policy, workspace_);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, StartsWith("p.yaml:7:5: publish port 8080 is taken"));
}

}  // namespace
}  // namespace airlock::sandbox
