#include "control/listening_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "common/file_io.h"

namespace airlock::control {
namespace {

constexpr const char* kListenState = "0A";  // TCP_LISTEN, as the kernel prints it

// The kernel prints each 32-bit word of the address in host byte order as 8 hex digits.
std::optional<std::string> address_text(const std::string& hex, bool ipv6) {
  const size_t words = ipv6 ? 4 : 1;
  if (hex.size() != words * 8) return std::nullopt;
  uint32_t raw[4] = {};
  for (size_t i = 0; i < words; ++i) {
    try {
      raw[i] = static_cast<uint32_t>(std::stoul(hex.substr(i * 8, 8), nullptr, 16));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(ipv6 ? AF_INET6 : AF_INET, raw, text, sizeof text) == nullptr) {
    return std::nullopt;
  }
  return std::string(text);
}

}  // namespace

std::vector<ListeningPort> parse_listening(const std::string& table, bool ipv6) {
  std::vector<ListeningPort> found;
  std::istringstream lines(table);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state) || state != kListenState) continue;
    const size_t colon = local.find(':');
    if (colon == std::string::npos) continue;
    std::optional<std::string> address = address_text(local.substr(0, colon), ipv6);
    unsigned long port = 0;
    try {
      port = std::stoul(local.substr(colon + 1), nullptr, 16);
    } catch (const std::exception&) {
      continue;
    }
    if (!address || port == 0 || port > 65535) continue;
    found.push_back({*address, static_cast<uint16_t>(port)});
  }
  return found;
}

Result<std::vector<ListeningPort>> listening_ports(pid_t pid) {
  std::vector<ListeningPort> ports;
  for (const auto& [name, ipv6] : {std::pair{"tcp", false}, std::pair{"tcp6", true}}) {
    Result<std::string> table = read_file(fmt::format("/proc/{}/net/{}", pid, name));
    if (!table) {
      if (ipv6) continue;  // a kernel without IPv6
      return table.error();
    }
    std::vector<ListeningPort> found = parse_listening(*table, ipv6);
    ports.insert(ports.end(), found.begin(), found.end());
  }
  std::sort(ports.begin(), ports.end(), [](const ListeningPort& a, const ListeningPort& b) {
    return a.port != b.port ? a.port < b.port : a.address < b.address;
  });
  return ports;
}

}  // namespace airlock::control
