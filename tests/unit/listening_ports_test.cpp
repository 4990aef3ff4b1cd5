// /proc/net/tcp and tcp6 as the kernel prints them: only LISTEN rows, addresses decoded.
#include <unistd.h>

#include <gtest/gtest.h>

#include "control/listening_ports.h"

namespace airlock::control {
namespace {

TEST(ListeningPortsTest, ReadsListenRowsOfTheIpv4Table) {
  const std::string table =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534 0 1 1\n"
      "   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 2 1\n"
      "   2: 0100007F:9C40 0100007F:1538 01 00000000:00000000 00:00000000 00000000 0 0 3 1\n"
      "   3: 0100647F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4 1\n";
  const std::vector<ListeningPort> ports = parse_listening(table, false);
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[0], (ListeningPort{"127.0.0.1", 5432}));
  EXPECT_EQ(ports[1], (ListeningPort{"0.0.0.0", 8080}));
  EXPECT_EQ(ports[2], (ListeningPort{"127.100.0.1", 5432}));
}

TEST(ListeningPortsTest, ReadsTheIpv6TableAndSkipsWhatItCannotRead) {
  const std::string table =
      "  sl  local_address                         remote_address                        st\n"
      "   0: 00000000000000000000000001000000:1538 00000000000000000000000000000000:0000 0A\n"
      "   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A\n"
      "   2: 0000000000000000000000000100000:1538 00000000000000000000000000000000:0000 0A\n"
      "   3: garbage\n";
  const std::vector<ListeningPort> ports = parse_listening(table, true);
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0], (ListeningPort{"::1", 5432}));
  EXPECT_EQ(ports[1], (ListeningPort{"::", 80}));
}

TEST(ListeningPortsTest, ThisProcessTablesCanBeRead) {
  Result<std::vector<ListeningPort>> ports = listening_ports(::getpid());
  EXPECT_TRUE(ports) << ports.error().message;
}

}  // namespace
}  // namespace airlock::control
