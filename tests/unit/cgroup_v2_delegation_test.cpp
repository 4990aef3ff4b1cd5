// DelegatedCgroup on the real kernel. These run only inside a delegated cgroup v2 that
// tests/cgroup2/run_cgroup2.sh prepares (as uid 65534, this process alone in it) and names in
// AIRLOCK_TEST_CGROUP2_CONTROLLER the controller it offers; elsewhere they skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/file_io.h"
#include "sandbox/cgroup_v2.h"
#include "sandbox/cgroup_v2_delegation.h"
#include "sandbox/cgroup_v2_location.h"

namespace airlock::sandbox {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string cgroup_of(pid_t pid) {
  Result<std::string> text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  return text ? cgroup2_own_path(*text).value_or("") : "";
}

// A child that waits to be killed, in whatever cgroup it was forked into.
pid_t spawn_sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  return pid;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

class DelegatedCgroupLive : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* controller = ::getenv("AIRLOCK_TEST_CGROUP2_CONTROLLER");
    if (controller == nullptr) {
      GTEST_SKIP() << "needs a delegated cgroup v2: run by tests/cgroup2/run_cgroup2.sh";
    }
    controller_ = controller;
    Result<Cgroup2Location> own = locate_own_cgroup2();
    ASSERT_TRUE(own) << own.error().message;
    own_ = *own;
    ASSERT_NE(own_.path, "/") << "the script must run this in a delegated child cgroup";
  }

  std::vector<std::string> enabled() const {
    Result<std::string> text = read_file(own_.directory() + "/cgroup.subtree_control");
    return text ? cgroup_controller_names(*text) : std::vector<std::string>{"<unreadable>"};
  }

  std::vector<std::string> airlock_children() const {
    std::vector<std::string> names;
    DIR* dir = ::opendir(own_.directory().c_str());
    if (dir == nullptr) return {"<unreadable>"};
    while (dirent* entry = ::readdir(dir)) {
      if (std::string(entry->d_name).rfind("airlock-", 0) == 0) names.emplace_back(entry->d_name);
    }
    ::closedir(dir);
    return names;
  }

  void expect_untouched() const {
    EXPECT_EQ(cgroup_of(::getpid()), own_.path);
    EXPECT_THAT(enabled(), Not(Contains(controller_)));
    EXPECT_THAT(airlock_children(), IsEmpty());
  }

  std::string controller_;
  Cgroup2Location own_;
};

TEST_F(DelegatedCgroupLive, AloneItMovesIntoALeafAndPutsEverythingBack) {
  Result<DelegationPlan> plan = plan_delegation({controller_});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_THAT(plan->to_enable, ElementsAre(controller_));

  Result<DelegatedCgroup> created = DelegatedCgroup::create(*plan, "unit-alone");
  ASSERT_TRUE(created) << created.error().message;
  DelegatedCgroup cgroup = std::move(created).value();
  EXPECT_EQ(cgroup_of(::getpid()), own_.path + "/airlock-supervisor-unit-alone");
  EXPECT_THAT(enabled(), Contains(controller_));
  EXPECT_EQ(cgroup.directory(), own_.directory() + "/airlock-unit-alone");
  Result<std::string> offered = read_file(cgroup.directory() + "/cgroup.controllers");
  ASSERT_TRUE(offered);
  EXPECT_THAT(cgroup_controller_names(*offered), Contains(controller_));

  // A child forked now starts in the supervisor's leaf, as the sandbox does, and add() moves it.
  pid_t child = spawn_sleeper();
  ASSERT_GT(child, 0);
  EXPECT_EQ(cgroup_of(child), own_.path + "/airlock-supervisor-unit-alone");
  Status added = cgroup.add(child);
  EXPECT_TRUE(added) << added.error().message;
  EXPECT_EQ(cgroup_of(child), own_.path + "/airlock-unit-alone");
  kill_and_reap(child);

  Status removed = cgroup.remove();
  EXPECT_TRUE(removed) << removed.error().message;
  expect_untouched();
}

TEST_F(DelegatedCgroupLive, AFailedSetUpLeavesNothingBehind) {
  Result<DelegationPlan> plan = plan_delegation({controller_});
  ASSERT_TRUE(plan) << plan.error().message;
  // The sandbox cgroup's name is taken, so the last step fails after the supervisor has moved.
  const std::string taken = own_.directory() + "/airlock-unit-taken";
  ASSERT_EQ(::mkdir(taken.c_str(), 0755), 0);
  {
    Result<DelegatedCgroup> created = DelegatedCgroup::create(*plan, "unit-taken");
    ASSERT_FALSE(created);
    EXPECT_THAT(created.error().message, HasSubstr("cannot create cgroup " + taken));
  }
  ASSERT_EQ(::rmdir(taken.c_str()), 0);
  expect_untouched();
}

TEST_F(DelegatedCgroupLive, ASharedCgroupIsRefusedWithTheCauseAndTheFix) {
  pid_t neighbour = spawn_sleeper();
  ASSERT_GT(neighbour, 0);
  Result<DelegationPlan> plan = plan_delegation({controller_});
  kill_and_reap(neighbour);
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, HasSubstr("is shared with 1 other process"));
  EXPECT_THAT(plan.error().message, HasSubstr("no internal processes"));
  EXPECT_THAT(plan.error().message, HasSubstr("systemd-run --user --scope -p Delegate=yes"));
  expect_untouched();
}

TEST_F(DelegatedCgroupLive, AControllerNotOfferedIsNamed) {
  Result<std::string> offered = read_file(own_.directory() + "/cgroup.controllers");
  ASSERT_TRUE(offered);
  if (::testing::Matches(Contains(std::string("memory")))(cgroup_controller_names(*offered))) {
    GTEST_SKIP() << "this cgroup offers memory";
  }
  Result<DelegationPlan> plan = plan_delegation({controller_, "memory"});
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, HasSubstr("does not offer the memory controller"));
  EXPECT_THAT(plan.error().message, HasSubstr("it offers: "));
}

TEST_F(DelegatedCgroupLive, PidsMaxIsWrittenAndCounted) {
  if (controller_ != "pids") GTEST_SKIP() << "this cgroup offers " << controller_ << ", not pids";
  Result<CgroupV2Limits> created = CgroupV2Limits::create("unit-pids", std::nullopt, 3);
  ASSERT_TRUE(created) << created.error().message;
  CgroupV2Limits limits = std::move(created).value();
  const std::string dir = own_.directory() + "/airlock-unit-pids";
  Result<std::string> max = read_file(dir + "/pids.max");
  ASSERT_TRUE(max);
  EXPECT_EQ(*max, "3\n");
  // Once moved in, a child forks until refused and exits with how many forks succeeded.
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  pid_t child = ::fork();
  if (child == 0) {
    char byte = 0;
    if (::read(go[0], &byte, 1) != 1) ::_exit(100);
    int forked = 0;
    for (; forked < 10; ++forked) {
      pid_t grandchild = ::fork();
      if (grandchild < 0) break;
      if (grandchild == 0) {
        ::pause();
        ::_exit(0);
      }
    }
    ::kill(0, SIGKILL);  // the grandchildren share our process group (and so do we)
    ::_exit(forked);
  }
  ASSERT_GT(child, 0);
  ASSERT_EQ(::setpgid(child, child), 0);
  Status added = limits.add(child);
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::close(go[0]);
  ::close(go[1]);
  // kill(0) ends the child too, so its own count is lost; the cgroup's counter is the proof.
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_GT(limits.usage().pids_limit_hits, 0U);
  Status removed = limits.remove();
  EXPECT_TRUE(removed) << removed.error().message;
  expect_untouched();
}

}  // namespace
}  // namespace airlock::sandbox
