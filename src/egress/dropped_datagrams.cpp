#include "egress/dropped_datagrams.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/errno_text.h"
#include "egress/nftables_ruleset.h"

namespace airlock::egress {
namespace {

// Dynamic sets: the kernel adds an element, with its own counter, for each new destination.
// A full set (4096) stops adding: those packets are still dropped, only no longer counted.
constexpr const char* kSets[][2] = {
    {"dropped_udp4", "udp"},
    {"dropped_udp6", "udp"},
    {"dropped_icmp4", "icmp"},
    {"dropped_icmp6", "icmpv6"},
};

Result<UniqueFd> open_namespace(pid_t pid, const char* name) {
  const std::string path = fmt::format("/proc/{}/ns/{}", pid, name);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error{"cannot open " + path + ": " + errno_text(errno)};
  return fd;
}

}  // namespace

std::string dropped_counter_sets() {
  return "  set dropped_udp4 { type ipv4_addr . inet_service; size 4096; flags dynamic; counter; "
         "}\n"
         "  set dropped_udp6 { type ipv6_addr . inet_service; size 4096; flags dynamic; counter; "
         "}\n"
         "  set dropped_icmp4 { type ipv4_addr; size 4096; flags dynamic; counter; }\n"
         "  set dropped_icmp6 { type ipv6_addr; size 4096; flags dynamic; counter; }\n";
}

std::string dropped_counter_rules() {
  return "    meta l4proto udp update @dropped_udp4 { ip daddr . udp dport }\n"
         "    meta l4proto udp update @dropped_udp6 { ip6 daddr . udp dport }\n"
         "    meta l4proto icmp update @dropped_icmp4 { ip daddr }\n"
         "    meta l4proto ipv6-icmp update @dropped_icmp6 { ip6 daddr }\n";
}

Result<std::vector<DroppedDatagrams>> parse_dropped_counts(const std::string& json) {
  nlohmann::json document = nlohmann::json::parse(json, nullptr, false);
  if (document.is_discarded() || !document.contains("nftables")) {
    return Error{"nft printed something that is not its JSON listing"};
  }
  std::vector<DroppedDatagrams> counts;
  for (const nlohmann::json& item : document["nftables"]) {
    if (!item.contains("set")) continue;
    const nlohmann::json& set = item["set"];
    const std::string name = set.value("name", "");
    const char* protocol = nullptr;
    for (const auto& [set_name, set_protocol] : kSets)
      if (name == set_name) protocol = set_protocol;
    if (protocol == nullptr || !set.contains("elem")) continue;
    for (const nlohmann::json& element : set["elem"]) {
      if (!element.contains("elem")) continue;
      const nlohmann::json& entry = element["elem"];
      const nlohmann::json& value = entry.value("val", nlohmann::json());
      DroppedDatagrams dropped;
      dropped.protocol = protocol;
      if (value.is_object() && value.contains("concat") && value["concat"].size() == 2) {
        dropped.address = value["concat"][0].get<std::string>();
        dropped.port = value["concat"][1].get<uint16_t>();
      } else if (value.is_string()) {
        dropped.address = value.get<std::string>();
      } else {
        continue;
      }
      dropped.packets = entry.value("/counter/packets"_json_pointer, uint64_t{0});
      counts.push_back(std::move(dropped));
    }
  }
  return counts;
}

Result<DroppedDatagramCounter> DroppedDatagramCounter::hold(pid_t sandbox_pid,
                                                            bool join_user_namespace) {
  UniqueFd user;
  if (join_user_namespace) {
    Result<UniqueFd> opened = open_namespace(sandbox_pid, "user");
    if (!opened) return opened.error();
    user = std::move(opened).value();
  }
  Result<UniqueFd> network = open_namespace(sandbox_pid, "net");
  if (!network) return network.error();
  return DroppedDatagramCounter(std::move(user), std::move(network).value());
}

Result<std::vector<DroppedDatagrams>> DroppedDatagramCounter::read() const {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Error{"cannot create a pipe: " + errno_text(errno)};
  UniqueFd ours(pipe_fds[0]), theirs(pipe_fds[1]);
  const pid_t helper = ::fork();
  if (helper < 0) return Error{"cannot start the counting helper: " + errno_text(errno)};
  if (helper == 0) {
    ours.reset();
    std::string out;
    if (user_namespace_.valid() && ::setns(user_namespace_.get(), CLONE_NEWUSER) != 0) {
      out = "cannot enter the sandbox's user namespace: " + errno_text(errno);
    } else if (::setns(network_namespace_.get(), CLONE_NEWNET) != 0) {
      out = "cannot enter the sandbox's network namespace: " + errno_text(errno);
    } else {
      Result<std::string> listed = nftables_json("list table inet airlock");
      out = listed ? *listed : "cannot list the capture's counters: " + listed.error().message;
    }
    for (size_t written = 0; written < out.size();) {
      const ssize_t n = ::write(theirs.get(), out.data() + written, out.size() - written);
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  theirs.reset();
  std::string text;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(ours.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(chunk, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {
  }
  if (text.empty() || text.front() != '{') {
    return Error{text.empty() ? "the counting helper printed nothing" : text};
  }
  return parse_dropped_counts(text);
}

}  // namespace airlock::egress
