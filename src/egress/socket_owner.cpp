#include "egress/socket_owner.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "common/errno_text.h"
#include "egress/ip_address.h"

namespace airlock::egress {
namespace {

constexpr size_t kMaxProcesses = 4096;
constexpr size_t kMaxFds = 65536;
constexpr size_t kMaxArgs = 64;
constexpr size_t kMaxArgBytes = 512;
// Bounds the time spent on one huge cmdline; an argument may be up to 128 KiB (MAX_ARG_STRLEN).
constexpr size_t kMaxCmdlineBytes = size_t{1} << 20;
constexpr size_t kMaxStatusBytes = 16384;
constexpr std::chrono::milliseconds kReplyTimeout{100};
// A dump's messages are sized to the reader's buffer, capped near 32 KiB (netlink_recvmsg), so
// one this size never truncates.
constexpr size_t kReceiveBufferBytes = 32768;

// A local address as inet_diag reports it: address in idiag_src layout, port in network order.
struct DiagAddress {
  uint8_t family = AF_INET;
  std::array<uint8_t, 16> address{};
  uint16_t port_be = 0;
};

// An AF_INET6 socket connected to a v4-mapped address is an AF_INET6 socket in inet_diag even
// though the proxy's IPv4 listener sees an IPv4 peer (and the reverse for a dual-stack listener),
// so the other spelling is the second place to look.
std::vector<DiagAddress> diag_addresses(const sockaddr_storage& client) {
  const auto address =
      IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&client), sizeof client);
  if (!address) return {};
  const uint16_t port_be = htons(port_of(client));
  constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  DiagAddress v4{AF_INET, {}, port_be};
  DiagAddress v6{AF_INET6, {}, port_be};
  if (address->is_v4()) {
    std::copy_n(address->bytes.begin(), 4, v4.address.begin());
    std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), v6.address.begin());
    std::copy_n(address->bytes.begin(), 4, v6.address.begin() + 12);
    return {v4, v6};
  }
  v6.address = address->bytes;
  if (!std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), address->bytes.begin())) return {v6};
  std::copy_n(address->bytes.begin() + 12, 4, v4.address.begin());
  return {v6, v4};
}

bool matches(const inet_diag_msg& message, const DiagAddress& wanted) {
  if (message.idiag_family != wanted.family || message.id.idiag_sport != wanted.port_be) {
    return false;
  }
  const size_t size = wanted.family == AF_INET ? 4 : 16;
  return std::memcmp(message.id.idiag_src, wanted.address.data(), size) == 0;
}

enum class Progress { kMore, kDone, kFailed };

// Reads the messages of one reply buffer; records the first matching socket with an inode
// (time-wait and orphaned sockets have inode 0: no process holds them).
Progress read_replies(const uint8_t* data, size_t length, uint32_t sequence,
                      const DiagAddress& wanted, uint32_t* inode) {
  size_t offset = 0;
  while (length - offset >= sizeof(nlmsghdr)) {
    nlmsghdr header{};
    std::memcpy(&header, data + offset, sizeof header);
    if (header.nlmsg_len < sizeof header || header.nlmsg_len > length - offset) {
      return Progress::kFailed;
    }
    // Other sequence numbers are late replies to an earlier query that gave up.
    if (header.nlmsg_seq == sequence) {
      if (header.nlmsg_type == NLMSG_DONE) return Progress::kDone;
      if (header.nlmsg_type == NLMSG_ERROR) return Progress::kFailed;
      if (header.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
          header.nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
        inet_diag_msg message{};
        std::memcpy(&message, data + offset + NLMSG_HDRLEN, sizeof message);
        if (*inode == 0 && message.idiag_inode != 0 && matches(message, wanted)) {
          *inode = message.idiag_inode;
        }
      }
    }
    offset += std::min<size_t>(NLMSG_ALIGN(header.nlmsg_len), length - offset);
  }
  return Progress::kMore;
}

// One dump of the TCP sockets of `wanted.family` with source port `wanted.port_be` (the kernel
// filters on idiag_sport; the address is compared here), all states. 0 when not found.
uint32_t socket_inode(int sock_diag_fd, const DiagAddress& wanted) {
  static std::atomic<uint32_t> next_sequence{1};
  const uint32_t sequence = next_sequence.fetch_add(1, std::memory_order_relaxed);
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } query{};
  query.header.nlmsg_len = sizeof query;
  query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  query.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  query.header.nlmsg_seq = sequence;
  query.request.sdiag_family = wanted.family;
  query.request.sdiag_protocol = IPPROTO_TCP;
  query.request.idiag_states = ~0U;
  query.request.id.idiag_sport = wanted.port_be;
  query.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  query.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(sock_diag_fd, &query, sizeof query, MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(sizeof query)) {
    return 0;
  }

  std::vector<uint8_t> buffer(kReceiveBufferBytes);
  uint32_t inode = 0;
  const auto deadline = std::chrono::steady_clock::now() + kReplyTimeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return inode;
    pollfd ready{sock_diag_fd, POLLIN, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno == EINTR) continue;
    if (polled <= 0) return inode;
    sockaddr_nl sender{};
    iovec part{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_name = &sender;
    message.msg_namelen = sizeof sender;
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    const ssize_t received = ::recvmsg(sock_diag_fd, &message, MSG_DONTWAIT);
    if (received < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return inode;  // ENOBUFS: replies were dropped, the dump is incomplete
    }
    // Only the kernel answers; a unicast from another netlink socket could forge an owner.
    if (sender.nl_pid != 0) continue;
    if ((message.msg_flags & MSG_TRUNC) != 0) return inode;
    switch (read_replies(buffer.data(), static_cast<size_t>(received), sequence, wanted, &inode)) {
      case Progress::kMore:
        break;
      case Progress::kDone:
      case Progress::kFailed:
        return inode;
    }
  }
}

struct DirCloser {
  void operator()(DIR* directory) const { ::closedir(directory); }
};
using Directory = std::unique_ptr<DIR, DirCloser>;

Directory open_directory_at(int dir_fd, const char* path) {
  const int fd = ::openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  DIR* directory = ::fdopendir(fd);
  if (directory == nullptr) ::close(fd);
  return Directory(directory);
}

std::optional<pid_t> parse_pid(std::string_view text) {
  pid_t pid = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (error != std::errc() || end != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

using NamespaceId = PidNamespaceId;

std::optional<NamespaceId> pid_namespace_at(int dir_fd, const char* path) {
  struct stat status {};
  if (::fstatat(dir_fd, path, &status, 0) != 0) return std::nullopt;
  return NamespaceId{status.st_dev, status.st_ino};
}

// The pids in /proc whose pid namespace is `wanted`, ascending, at most kMaxProcesses.
std::vector<pid_t> pids_in_namespace(int proc_fd, const NamespaceId& wanted) {
  std::vector<pid_t> pids;
  const Directory proc = open_directory_at(proc_fd, ".");
  if (!proc) return pids;
  while (const dirent* entry = ::readdir(proc.get())) {
    const auto pid = parse_pid(entry->d_name);
    if (!pid) continue;
    const std::string path = std::string(entry->d_name) + "/ns/pid";
    if (pid_namespace_at(proc_fd, path.c_str()) != wanted) continue;
    pids.push_back(*pid);
    if (pids.size() == kMaxProcesses) break;
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

// Whether /proc/PID/fd (PID = `pid_fd`) has a link equal to `target`; `fds_left` is the budget
// shared by the whole scan.
bool holds_link(int pid_fd, std::string_view target, size_t* fds_left) {
  const Directory fds = open_directory_at(pid_fd, "fd");
  if (!fds) return false;
  std::array<char, 64> link{};
  while (const dirent* entry = ::readdir(fds.get())) {
    if (entry->d_name[0] == '.') continue;
    if (*fds_left == 0) return false;
    --*fds_left;
    const ssize_t length =
        ::readlinkat(::dirfd(fds.get()), entry->d_name, link.data(), link.size());
    if (length > 0 && std::string_view(link.data(), static_cast<size_t>(length)) == target) {
      return true;
    }
  }
  return false;
}

std::string read_at(int dir_fd, const char* path, size_t max_bytes) {
  std::string content;
  const UniqueFd fd(::openat(dir_fd, path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return content;
  std::array<char, 4096> chunk{};
  while (content.size() < max_bytes) {
    const ssize_t got =
        ::read(fd.get(), chunk.data(), std::min(chunk.size(), max_bytes - content.size()));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    content.append(chunk.data(), static_cast<size_t>(got));
  }
  return content;
}

// The last field of the "NSpid:" line: the pid as the process's own pid namespace numbers it.
pid_t innermost_pid(const std::string& status) {
  constexpr std::string_view kKey = "\nNSpid:";
  const size_t start = status.find(kKey);
  if (start == std::string::npos) return 0;
  const size_t line_end = std::min(status.find('\n', start + 1), status.size());
  std::string_view line(status.data() + start + kKey.size(), line_end - start - kKey.size());
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  const size_t field = line.find_last_of(" \t");
  return parse_pid(field == std::string_view::npos ? line : line.substr(field + 1)).value_or(0);
}

std::vector<std::string> read_argv(int pid_fd) {
  std::vector<std::string> argv;
  const std::string cmdline = read_at(pid_fd, "cmdline", kMaxCmdlineBytes);
  std::string_view rest(cmdline);
  while (!rest.empty() && argv.size() < kMaxArgs) {
    const size_t end = std::min(rest.find('\0'), rest.size());
    argv.emplace_back(rest.substr(0, std::min(end, kMaxArgBytes)));
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  return argv;
}

std::string read_exe(int pid_fd) {
  std::array<char, PATH_MAX> path{};
  const ssize_t length = ::readlinkat(pid_fd, "exe", path.data(), path.size());
  if (length <= 0) return "";
  return std::string(path.data(), static_cast<size_t>(length));
}

SocketOwner describe_process(int pid_fd, pid_t host_pid) {
  SocketOwner process;
  process.host_pid = host_pid;
  process.sandbox_pid = innermost_pid(read_at(pid_fd, "status", kMaxStatusBytes));
  process.exe = read_exe(pid_fd);
  process.argv = read_argv(pid_fd);
  return process;
}

// The 4th field of /proc/PID/stat, after the command name in parentheses (which may itself
// contain spaces and parentheses: the last ')' ends it).
std::optional<pid_t> parent_pid(int pid_fd) {
  const std::string stat = read_at(pid_fd, "stat", 1024);
  const size_t name_end = stat.rfind(')');
  if (name_end == std::string::npos || name_end + 4 >= stat.size()) return std::nullopt;
  std::string_view rest = std::string_view(stat).substr(name_end + 4);  // ") S " then ppid
  return parse_pid(rest.substr(0, rest.find(' ')));
}

std::optional<SocketOwner> process_holding(uint32_t inode, const NamespaceId& wanted) {
  const UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc.valid()) return std::nullopt;
  const std::optional<NamespaceId> sandbox = wanted;
  const std::string target = "socket:[" + std::to_string(inode) + "]";
  size_t fds_left = kMaxFds;
  for (const pid_t pid : pids_in_namespace(proc.get(), *sandbox)) {
    // Everything below reads through this one directory fd, so a pid reused meanwhile by another
    // process cannot mix two processes into one owner: the old entry just stops answering.
    const UniqueFd pid_fd(
        ::openat(proc.get(), std::to_string(pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!pid_fd.valid() || pid_namespace_at(pid_fd.get(), "ns/pid") != sandbox) continue;
    if (!holds_link(pid_fd.get(), target, &fds_left)) {
      if (fds_left == 0) return std::nullopt;
      continue;
    }
    return describe_process(pid_fd.get(), pid);
  }
  return std::nullopt;
}

}  // namespace

std::optional<PidNamespaceId> pid_namespace_of(pid_t pid) {
  return pid_namespace_at(AT_FDCWD, ("/proc/" + std::to_string(pid) + "/ns/pid").c_str());
}

std::optional<SocketOwner> find_socket_owner(int sock_diag_fd, const sockaddr_storage& client,
                                             pid_t sandbox_init_pid) {
  std::optional<PidNamespaceId> sandbox = pid_namespace_of(sandbox_init_pid);
  if (!sandbox) return std::nullopt;
  return find_socket_owner(sock_diag_fd, client, *sandbox);
}

std::optional<SocketOwner> find_socket_owner(int sock_diag_fd, const sockaddr_storage& client,
                                             const PidNamespaceId& sandbox) {
  try {
    for (const DiagAddress& wanted : diag_addresses(client)) {
      if (const uint32_t inode = socket_inode(sock_diag_fd, wanted); inode != 0) {
        return process_holding(inode, sandbox);
      }
    }
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    return std::nullopt;  // an audit detail is not worth failing the proxy for
  }
}

std::vector<SocketOwner> parent_chain(pid_t host_pid, const PidNamespaceId& sandbox,
                                      size_t max_depth) {
  std::vector<SocketOwner> chain;
  const UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc.valid()) return chain;
  pid_t pid = host_pid;
  while (chain.size() < max_depth) {
    UniqueFd pid_fd(
        ::openat(proc.get(), std::to_string(pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!pid_fd.valid()) break;
    const std::optional<pid_t> parent = parent_pid(pid_fd.get());
    if (!parent) break;
    UniqueFd parent_fd(
        ::openat(proc.get(), std::to_string(*parent).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    // The sandbox's init is airlock itself (and, unprivileged, not readable): the chain ends
    // below it.
    if (!parent_fd.valid() || pid_namespace_at(parent_fd.get(), "ns/pid") != sandbox) break;
    SocketOwner process = describe_process(parent_fd.get(), *parent);
    if (process.sandbox_pid <= 1) break;
    chain.push_back(std::move(process));
    pid = *parent;
  }
  return chain;
}

Result<UniqueFd> open_sock_diag() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd.valid()) return Error{"cannot open a NETLINK_SOCK_DIAG socket: " + errno_text(errno)};
  return fd;
}

}  // namespace airlock::egress
