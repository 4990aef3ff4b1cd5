// The cgroup v2 location parsers, on the texts of real hosts (hybrid and pure v2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/cgroup_v2_location.h"

namespace airlock::sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// This build machine: v1 hierarchies plus cgroup2 at /sys/fs/cgroup/unified.
constexpr const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(Cgroup2MountPoint, FindsTheUnifiedMountOnAHybridHost) {
  EXPECT_EQ(cgroup2_mount_point(kHybridMountinfo), "/sys/fs/cgroup/unified");
}

TEST(Cgroup2MountPoint, FindsItBehindOptionalFields) {
  // systemd hosts: "shared:N" optional fields before the "-" separator.
  EXPECT_EQ(cgroup2_mount_point("35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime "
                                "shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"),
            "/sys/fs/cgroup");
}

TEST(Cgroup2MountPoint, DecodesOctalEscapes) {
  EXPECT_EQ(cgroup2_mount_point("40 30 0:37 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n"),
            "/mnt/my cgroups");
}

TEST(Cgroup2MountPoint, IgnoresV1AndASourceNamedCgroup2) {
  EXPECT_EQ(cgroup2_mount_point("38 30 0:35 / /sys/fs/cgroup/pids rw - cgroup cgroup2 rw,pids\n"),
            std::nullopt);
  EXPECT_EQ(cgroup2_mount_point(""), std::nullopt);
}

TEST(Cgroup2OwnPath, ReadsTheZeroLine) {
  EXPECT_EQ(cgroup2_own_path("8:pids:/\n4:memory:/process_api/b3\n0::/user.slice/x.scope\n"),
            "/user.slice/x.scope");
  EXPECT_EQ(cgroup2_own_path("0::/\n"), "/");
}

TEST(Cgroup2OwnPath, NoneOnAPureV1Host) {
  EXPECT_EQ(cgroup2_own_path("8:pids:/\n4:memory:/a\n"), std::nullopt);
}

TEST(CgroupControllerNames, SplitsOnWhitespace) {
  EXPECT_THAT(cgroup_controller_names("cpuset cpu io memory pids\n"),
              ElementsAre("cpuset", "cpu", "io", "memory", "pids"));
  EXPECT_THAT(cgroup_controller_names("\n"), IsEmpty());
}

TEST(Cgroup2Location, RootCgroupIsTheMountItself) {
  EXPECT_EQ((Cgroup2Location{"/sys/fs/cgroup", "/"}).directory(), "/sys/fs/cgroup");
  EXPECT_EQ((Cgroup2Location{"/sys/fs/cgroup", "/a/b"}).directory(), "/sys/fs/cgroup/a/b");
}

}  // namespace
}  // namespace airlock::sandbox
