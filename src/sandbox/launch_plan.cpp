#include "sandbox/launch_plan.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "common/errno_text.h"
#include "common/file_io.h"
#include "common/unique_fd.h"
#include "common/unix_address.h"
#include "control/control_directory.h"
#include "credentials/secret_environment.h"
#include "egress/sandbox_ports.h"
#include "policy/policy_json.h"
#include "seccomp/default_filter.h"
#include "seccomp/filter_builder.h"

extern char** environ;

namespace airlock::sandbox {
namespace {

using policy::PathEntry;

// "/a/b" is within "/a" and within "/a/b"; "/ab" is not within "/a".
bool is_within(const std::string& path, const std::string& ancestor) {
  if (ancestor == "/") return true;
  return path == ancestor ||
         (path.size() > ancestor.size() && path.compare(0, ancestor.size(), ancestor) == 0 &&
          path[ancestor.size()] == '/');
}

size_t depth(const std::string& path) {
  return std::count(path.begin(), path.end(), '/');
}

std::string expand_home(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.rfind("~/", 0) == 0) return home + path.substr(1);
  return path;
}

Result<std::string> canonical_directory(const std::string& path, const std::string& what) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return Error{what + " " + path + " cannot be used: " + errno_text(errno)};
  }
  struct stat info {};
  if (::stat(resolved, &info) != 0 || !S_ISDIR(info.st_mode)) {
    return Error{what + " " + path + " is not a directory"};
  }
  return std::string(resolved);
}

std::string current_directory() {
  char buffer[PATH_MAX];
  return ::getcwd(buffer, sizeof buffer) != nullptr ? std::string(buffer) : std::string("/");
}

std::string random_id() {
  unsigned char bytes[8] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    // Not fatal for uniqueness: fall back to pid and time, still unique on this host.
    return fmt::format("{:x}{:x}", ::getpid(), static_cast<unsigned long>(::time(nullptr)));
  }
  std::string id;
  for (unsigned char byte : bytes) id += fmt::format("{:02x}", byte);
  return id;
}

class PlanBuilder {
 public:
  explicit PlanBuilder(LaunchPlan& plan) : plan_(plan) {}

  Status resolve_workspace(const RunRequest& request) {
    const policy::Policy& policy = request.policy;
    std::string wanted =
        request.workspace_override.value_or(expand_home(policy.workspace, plan_.home));
    if (wanted.empty() || wanted.front() != '/') wanted = current_directory() + "/" + wanted;
    Result<std::string> workspace = canonical_directory(wanted, "workspace");
    if (!workspace) return Error{where_prefix(request) + workspace.error().message};
    plan_.workspace = *workspace;
    // A writable workspace that is, or contains, part of the system would undo the read-only
    // system layer (e.g. running from / or /etc).
    static const char* const kSystemDirectories[] = {"/usr",  "/etc",   "/bin",   "/sbin",
                                                     "/lib",  "/lib32", "/lib64", "/libx32",
                                                     "/boot", "/proc",  "/sys",   "/dev"};
    for (const char* system : kSystemDirectories) {
      if (is_within(system, plan_.workspace) || is_within(plan_.workspace, system)) {
        return Error{where_prefix(request) + "workspace " + plan_.workspace +
                     " would make the system directory " + system +
                     " writable; run airlock from a project directory or pass --workspace DIR"};
      }
    }
    std::string cwd = current_directory();
    plan_.working_directory = is_within(cwd, plan_.workspace) ? cwd : plan_.workspace;
    for (const PathEntry& entry : policy.filesystem.hidden) {
      std::string hidden = expand_home(entry.path, plan_.home);
      if (is_within(plan_.workspace, hidden)) {
        return Error{entry.where.to_string() + ": workspace " + plan_.workspace +
                     " is inside hidden path " + hidden + "; choose another workspace"};
      }
    }
    return ok_status();
  }

  Status add_filesystem(const policy::Policy& policy) {
    add_tmpfs("/tmp", 01777, false);
    add_tmpfs("/run", 0755, false);  // host sockets (docker, dbus, ssh-agent) live under /run
    if (!plan_.home.empty() && plan_.home != "/" && !is_within(plan_.home, plan_.workspace)) {
      add_tmpfs(plan_.home, 0700, true);
    }
    for (const PathEntry& entry : policy.filesystem.read_only) {
      add_host_path(expand_home(entry.path, plan_.home), MountKind::bind_read_only);
    }
    for (const PathEntry& entry : policy.filesystem.read_write) {
      std::string path = expand_home(entry.path, plan_.home);
      struct stat info {};
      if (::stat(path.c_str(), &info) != 0 && errno == ENOENT &&
          entry.create != policy::CreateMissing::no) {
        // An agent's own state (e.g. ~/.claude) on its first run: made by and for the caller.
        const bool made =
            entry.create == policy::CreateMissing::directory
                ? ::mkdir(path.c_str(), 0700) == 0
                : UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
                      .valid();
        if (!made) {
          return Error{entry.where.to_string() + ": cannot create read_write path " + path + ": " +
                       errno_text(errno)};
        }
      }
      if (::stat(path.c_str(), &info) != 0) {
        return Error{entry.where.to_string() + ": read_write path " + path +
                     " cannot be used: " + errno_text(errno) + "; create it first or remove it"};
      }
      const bool owned = plan_.started_by_root && info.st_uid == plan_.workspace_owner_uid;
      add_host_path(path, owned ? MountKind::owned_read_write : MountKind::bind_read_write);
    }
    add_host_path(plan_.workspace, MountKind::workspace);
    if (Status published = add_publish_directories(policy); !published) return published;
    // Parents before children: a bind inside the workspace must land on top of the workspace.
    std::stable_sort(
        plan_.mounts.begin(), plan_.mounts.end(),
        [](const MountStep& a, const MountStep& b) { return depth(a.inside) < depth(b.inside); });
    add_protected(policy);
    add_hidden(policy);
    return ok_status();
  }

  // publish entries without a port: the socket's directory inside is a private host directory,
  // so that the agent's socket can be reached from the host (src/publish/). It must be on the
  // sandbox's own /run or /tmp: anywhere else the directory would cover part of the host's view.
  Status add_publish_directories(const policy::Policy& policy) {
    for (const policy::PublishRule& rule : policy.publish) {
      if (rule.port != 0) continue;
      const size_t slash = rule.unix_path.rfind('/');
      const std::string inside = rule.unix_path.substr(0, slash);
      const bool private_tree = (is_within(inside, "/run") && inside != "/run") ||
                                (is_within(inside, "/tmp") && inside != "/tmp");
      bool control_tree = false;
      for (const std::string& directory : control::control_directories_to_hide())
        control_tree = control_tree || is_within(inside, directory) || is_within(directory, inside);
      const bool overlaps =
          is_within(inside, plan_.workspace) || is_within(plan_.workspace, inside) ||
          (!plan_.home.empty() && (is_within(inside, plan_.home) || is_within(plan_.home, inside)));
      if (!private_tree || control_tree || overlaps) {
        return Error{rule.where.to_string() + ": publish " + rule.unix_path +
                     " without a port: the agent creates this socket itself, so airlock gives "
                     "it a directory of its own there, which must be a new directory under /run "
                     "or /tmp (e.g. /run/agent/api.sock), not " +
                     inside};
      }
      for (const PublishDirectory& earlier : plan_.publish_directories) {
        if (earlier.inside == inside) {
          return Error{rule.where.to_string() + ": publish " + rule.unix_path + " shares " +
                       inside +
                       " with another publish entry without a port; give each its own "
                       "directory"};
        }
      }
      PublishDirectory directory;
      directory.host = fmt::format("{}/publish-{}-{}", control::control_directory(),
                                   plan_.sandbox_id, plan_.publish_directories.size());
      directory.inside = inside;
      directory.socket_name = rule.unix_path.substr(slash + 1);
      if (!unix_address(directory.host + "/" + directory.socket_name)) {
        return Error{rule.where.to_string() + ": publish " + rule.unix_path + ": the socket name " +
                     directory.socket_name + " is too long to reach from the host through " +
                     directory.host + "; shorten it"};
      }
      plan_.mounts.push_back({MountKind::bind_read_write, "/oldroot" + directory.host,
                              "/newroot" + inside, inside, true, ""});
      plan_.publish_directories.push_back(std::move(directory));
    }
    return ok_status();
  }

  // A published port is reached on the sandbox's loopback: it must not be a port that airlock's
  // capture sends elsewhere (its own listeners, localhost:PORT rules, credential endpoints).
  Status check_published_ports(const policy::Policy& policy) const {
    for (const policy::PublishRule& rule : policy.publish) {
      if (rule.port == 0 || !plan_.egress.enabled) continue;
      const auto& carried = plan_.egress.host_loopback_ports;
      const auto& endpoints = plan_.egress.endpoint_ports;
      if (egress::is_listener_port(rule.port) ||
          std::find(carried.begin(), carried.end(), rule.port) != carried.end() ||
          std::find(endpoints.begin(), endpoints.end(), rule.port) != endpoints.end()) {
        return Error{rule.where.to_string() + ": publish port " + std::to_string(rule.port) +
                     " is taken inside the sandbox by airlock's proxy or a localhost rule; let "
                     "the agent listen on another port"};
      }
    }
    return ok_status();
  }

  // Links: their names in the sandbox's own /etc/hosts (read-only), so they resolve without
  // DNS too (a sandbox whose network is deny_all has no DNS stub).
  void add_link_hosts(const std::vector<LinkHost>& links) {
    if (links.empty()) return;
    std::string hosts =
        "# written by airlock: this sandbox's loopback, and the links of its stack\n"
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
    for (const LinkHost& link : links) hosts += link.address + "\t" + link.name + "\n";
    plan_.mounts.push_back({MountKind::file, hosts, "/newroot/etc/hosts", "/etc/hosts", false, ""});
  }

  // Allowlist mode: the sandbox's resolver is airlock's DNS stub on its own loopback.
  Status add_egress(const policy::Policy& policy, const CredentialView& credentials) {
    if (policy.network.mode != policy::NetworkMode::allowlist) return ok_status();
    plan_.egress.enabled = true;
    plan_.egress.endpoint_ports = credentials.endpoint_ports;
    for (const policy::NetworkRule& rule : policy.network.allow) {
      if (rule.host != "localhost") continue;
      const bool endpoint =
          std::find(credentials.endpoint_ports.begin(), credentials.endpoint_ports.end(),
                    rule.port) != credentials.endpoint_ports.end();
      if (egress::is_listener_port(rule.port) || endpoint) {
        return Error{rule.where.to_string() + ": localhost:" + std::to_string(rule.port) +
                     " is where airlock's own proxy listens inside the sandbox; carry another "
                     "port"};
      }
      plan_.egress.host_loopback_ports.push_back(rule.port);
    }
    if (!credentials.trust_bundle_path.empty()) {
      if (Status bundle = add_trust_bundle(credentials.trust_bundle_path); !bundle) return bundle;
    }
    // /etc/resolv.conf may be a symlink into /run (systemd-resolved, resolvconf): the generated
    // file goes where the link leads inside the view, on the sandbox's private /run.
    std::string target = "/etc/resolv.conf";
    char resolved[PATH_MAX];
    if (::realpath(target.c_str(), resolved) != nullptr) {
      target = resolved;
    } else {
      char link[PATH_MAX];
      ssize_t length = ::readlink(target.c_str(), link, sizeof link - 1);
      if (length > 0 && link[0] == '/') target.assign(link, static_cast<size_t>(length));
    }
    plan_.mounts.push_back({MountKind::file,
                            fmt::format("# written by airlock: the sandbox's only resolver is "
                                        "its egress proxy\nnameserver 127.0.0.1\noptions "
                                        "edns0 trust-ad\n"),
                            "/newroot" + target, target, false, ""});
    return ok_status();
  }

  // The run's bundle (host roots + run CA, written by the supervisor), read-only in place of the
  // system bundle.
  Status add_trust_bundle(const std::string& bundle_path) {
    char resolved[PATH_MAX];
    if (::realpath(kSystemCaBundle, resolved) == nullptr) {
      return Error{std::string("cannot trust the run CA inside the sandbox: ") + kSystemCaBundle +
                   ": " + errno_text(errno) + " (install ca-certificates)"};
    }
    plan_.mounts.push_back({MountKind::bind_read_only, "/oldroot" + bundle_path,
                            "/newroot" + std::string(resolved), resolved, false, ""});
    return ok_status();
  }

  void add_landlock_rules() {
    // Reads: everything the mount layer shows. Writes: only where the mount layer allows them.
    plan_.landlock_rules.push_back({"/", LandlockAccess::read_execute});
    plan_.landlock_rules.push_back({"/dev", LandlockAccess::device});
    plan_.landlock_rules.push_back({"/dev/shm", LandlockAccess::read_write});
    for (const MountStep& step : plan_.mounts) {
      if (step.kind == MountKind::tmpfs || step.kind == MountKind::workspace ||
          step.kind == MountKind::bind_read_write || step.kind == MountKind::owned_read_write) {
        plan_.landlock_rules.push_back({step.inside, LandlockAccess::read_write});
      }
    }
  }

 private:
  static std::string where_prefix(const RunRequest& request) {
    return request.workspace_override ? "" : request.policy.workspace_where.to_string() + ": ";
  }

  void add_tmpfs(const std::string& inside, uint32_t mode, bool owned_by_sandbox_user) {
    std::string options = fmt::format("mode={:04o}", mode);
    // Started by root, the mount happens before the sandbox user exists: give it the tree.
    if (owned_by_sandbox_user && plan_.started_by_root) {
      options += fmt::format(",uid={},gid={}", kSandboxUid, kSandboxGid);
    }
    plan_.mounts.push_back({MountKind::tmpfs, "", "/newroot" + inside, inside, true, options});
  }

  void add_host_path(const std::string& path, MountKind kind) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) return;  // nothing there, nothing to show
    for (const MountStep& existing : plan_.mounts) {
      if (existing.inside == path && existing.kind != MountKind::tmpfs) return;  // listed twice
    }
    if (S_ISLNK(info.st_mode)) {
      char link[PATH_MAX];
      ssize_t length = ::readlink(path.c_str(), link, sizeof link - 1);
      if (length <= 0) return;
      plan_.mounts.push_back({MountKind::symlink, std::string(link, static_cast<size_t>(length)),
                              "/newroot" + path, path, false, ""});
      return;
    }
    plan_.mounts.push_back(
        {kind, "/oldroot" + path, "/newroot" + path, path, S_ISDIR(info.st_mode), ""});
  }

  void add_protected(const policy::Policy& policy) {
    std::set<std::string> pinned;
    for (const PathEntry& entry : policy.filesystem.protect) {
      const std::string path = plan_.workspace + "/" + entry.path;
      struct stat info {};
      bool present = ::lstat(path.c_str(), &info) == 0;
      if (!present && entry.path == ".git/hooks") {
        // git's own layout: an empty hooks directory is harmless and, once it exists, can be
        // protected; otherwise an agent could create .git/hooks/pre-commit.
        struct stat git {};
        if (::stat((plan_.workspace + "/.git").c_str(), &git) == 0 && S_ISDIR(git.st_mode)) {
          ::mkdir(path.c_str(), 0755);
          present = ::lstat(path.c_str(), &info) == 0;
        }
      }
      if (!present || S_ISLNK(info.st_mode)) {
        plan_.protect_absent.push_back(entry.path);
        continue;
      }
      // Pin each directory between the workspace and the protected path: a mount point cannot
      // be renamed, so "mv .git .git.old && mkdir .git" cannot sidestep the protection.
      for (size_t slash = entry.path.find('/'); slash != std::string::npos;
           slash = entry.path.find('/', slash + 1)) {
        std::string parent = plan_.workspace + "/" + entry.path.substr(0, slash);
        if (pinned.insert(parent).second) {
          plan_.mounts.push_back(
              {MountKind::pin, "/newroot" + parent, "/newroot" + parent, parent, true, ""});
        }
      }
      plan_.mounts.push_back({MountKind::protect, "/newroot" + path, "/newroot" + path, path,
                              S_ISDIR(info.st_mode), ""});
    }
  }

  void add_hidden(const policy::Policy& policy) {
    std::vector<std::string> paths;
    for (const PathEntry& entry : policy.filesystem.hidden)
      paths.push_back(expand_home(entry.path, plan_.home));
    // Every sandbox's control socket lives there (control_directory.h): no sandbox sees them,
    // whatever its policy exposes.
    for (const std::string& directory : control::control_directories_to_hide())
      paths.push_back(directory);
    for (const std::string& path : paths) {
      bool exposed = false;
      for (const MountStep& step : plan_.mounts) {
        bool host_tree =
            step.kind == MountKind::bind_read_only || step.kind == MountKind::bind_read_write ||
            step.kind == MountKind::owned_read_write || step.kind == MountKind::workspace;
        if (host_tree && is_within(path, step.inside)) exposed = true;
      }
      struct stat info {};
      if (!exposed || ::stat(path.c_str(), &info) != 0) continue;  // not visible: already hidden
      plan_.mounts.push_back(
          {MountKind::hide, "", "/newroot" + path, path, S_ISDIR(info.st_mode), ""});
    }
  }

  LaunchPlan& plan_;
};

std::vector<std::string> exec_candidates(const std::string& command,
                                         const std::string& path_variable) {
  if (command.find('/') != std::string::npos) return {command};
  std::vector<std::string> candidates;
  std::string path = path_variable.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_variable;
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string::npos) colon = path.size();
    std::string directory = path.substr(start, colon - start);
    if (!directory.empty() && directory.front() == '/')
      candidates.push_back(directory + "/" + command);
    start = colon + 1;
  }
  return candidates;
}

bool is_proxy_variable(const std::string& variable) {
  static const char* const kNames[] = {"http_proxy", "https_proxy", "all_proxy", "no_proxy",
                                       "ftp_proxy"};
  std::string name = variable.substr(0, variable.find('='));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

// For programs that honour them; the transparent capture holds for those that do not.
// A link's name is reached directly (its address is on the sandbox's own loopback), never
// through the proxy, which would refuse it.
void add_proxy_variables(std::vector<std::string>& environment,
                         const std::vector<LinkHost>& links) {
  const std::string http = fmt::format("http://127.0.0.1:{}", egress::kHttpProxyPort);
  const std::string socks = fmt::format("socks5h://127.0.0.1:{}", egress::kSocksPort);
  std::string no_proxy = "localhost,127.0.0.1,::1";
  for (const LinkHost& link : links) no_proxy += "," + link.name;
  for (const char* name : {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"}) {
    environment.push_back(std::string(name) + "=" + http);
  }
  for (const char* name : {"ALL_PROXY", "all_proxy"}) {
    environment.push_back(std::string(name) + "=" + socks);
  }
  for (const char* name : {"NO_PROXY", "no_proxy"}) {
    environment.push_back(std::string(name) + "=" + no_proxy);
  }
}

// The caller's environment, less secret-looking names the policy does not pass and anything
// airlock sets itself; then the policy's `process.env.set`, the credentials' placeholders and
// endpoints, the CA variables when something is intercepted, and the proxy variables.
void add_environment(const RunRequest& request, LaunchPlan& plan) {
  const policy::EnvironmentPolicy& env = request.policy.process.env;
  std::set<std::string> replaced;
  for (const policy::EnvironmentVariable& variable : env.set) replaced.insert(variable.name);
  for (const std::string& variable : request.credentials.environment)
    replaced.insert(variable.substr(0, variable.find('=')));
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string variable(*entry);
    const std::string name = variable.substr(0, variable.find('='));
    if (name.rfind("AIRLOCK_SANDBOX_", 0) == 0) continue;              // the supervisor sets these
    if (plan.egress.enabled && is_proxy_variable(variable)) continue;  // ours replace them
    if (replaced.count(name) != 0) continue;
    if (credentials::looks_like_secret(name) &&
        std::find(env.pass.begin(), env.pass.end(), name) == env.pass.end()) {
      plan.dropped_variables.push_back(name);
      continue;
    }
    plan.environment.push_back(variable);
  }
  for (const policy::EnvironmentVariable& variable : env.set)
    plan.environment.push_back(variable.name + "=" + variable.value);
  for (const std::string& variable : request.credentials.environment)
    plan.environment.push_back(variable);
  if (!request.credentials.trust_bundle_path.empty()) {
    // What runtimes read for extra or replacement roots: OpenSSL and curl, Node (and Bun),
    // Python requests, git, Codex (rustls). All point at the combined bundle.
    for (const char* name : {"SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE",
                             "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "CODEX_CA_CERTIFICATE"}) {
      std::erase_if(plan.environment, [&](const std::string& variable) {
        return variable.rfind(std::string(name) + "=", 0) == 0;
      });
      plan.environment.push_back(std::string(name) + "=" + kSystemCaBundle);
    }
  }
  plan.environment.push_back("AIRLOCK_SANDBOX_NAME=" + request.policy.name);
  plan.environment.push_back("AIRLOCK_SANDBOX_ID=" + plan.sandbox_id);
  if (plan.egress.enabled) add_proxy_variables(plan.environment, request.link_hosts);
}

}  // namespace

Result<LaunchPlan> make_launch_plan(const RunRequest& request) {
  LaunchPlan plan;
  plan.policy = request.policy;
  plan.sandbox_id = random_id();
  plan.policy_sha256 = policy::policy_sha256(request.policy);
  const char* home = ::getenv("HOME");
  plan.home = home != nullptr ? home : "";
  if (!plan.home.empty()) {
    char resolved[PATH_MAX];
    if (::realpath(plan.home.c_str(), resolved) != nullptr) plan.home = resolved;
  }

  PlanBuilder builder(plan);
  if (Status status = builder.resolve_workspace(request); !status) return status.error();

  plan.started_by_root = ::geteuid() == 0;
  struct stat workspace_info {};
  if (::stat(plan.workspace.c_str(), &workspace_info) != 0) {
    return Error{"workspace " + plan.workspace + ": " + errno_text(errno)};
  }
  plan.workspace_owner_uid = workspace_info.st_uid;
  plan.workspace_owner_gid = workspace_info.st_gid;
  plan.sandbox_uid = plan.started_by_root ? kSandboxUid : ::getuid();
  plan.sandbox_gid = plan.started_by_root ? kSandboxGid : ::getgid();

  if (Status status = builder.add_filesystem(request.policy); !status) return status.error();
  if (Status status = builder.add_egress(request.policy, request.credentials); !status)
    return status.error();
  if (Status status = builder.check_published_ports(request.policy); !status) return status.error();
  builder.add_link_hosts(request.link_hosts);
  builder.add_landlock_rules();

  const policy::ProcessPolicy& process = request.policy.process;
  plan.max_pids = process.max_pids;
  plan.max_open_files = process.max_open_files;
  // Nobody in the sandbox may raise a hard limit (that needs CAP_SYS_RESOURCE in the initial
  // user namespace): say so now rather than fail in the child with a bare EPERM.
  rlimit files{};
  if (process.max_open_files && ::getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_max != RLIM_INFINITY && *process.max_open_files > files.rlim_max) {
    return Error{fmt::format(
        "{}: process max_open_files {} is above this session's hard limit of {} open files "
        "(ulimit -Hn); lower it or raise the hard limit first",
        process.max_open_files_where.to_string(), *process.max_open_files, files.rlim_max)};
  }
  if (process.max_memory_mb) plan.max_memory_bytes = *process.max_memory_mb * 1024 * 1024;
  plan.timeout_seconds = process.timeout_seconds;
  plan.new_session = ::isatty(STDIN_FILENO) == 0;

  const std::span<const sock_filter> default_filter = seccomp::compiled_default_filter();
  plan.seccomp_default.assign(default_filter.begin(), default_filter.end());
  if (!process.syscalls.use_default) {
    Result<std::vector<sock_filter>> allowlist =
        seccomp::build_allowlist_filter(process.syscalls.allow);
    if (!allowlist) return allowlist.error();
    plan.seccomp_allowlist = std::move(allowlist).value();
  }

  plan.argv = request.argv;
  add_environment(request, plan);
  std::string path_variable;
  for (const std::string& variable : plan.environment) {
    if (variable.rfind("PATH=", 0) == 0) path_variable = variable.substr(5);
  }
  plan.exec_candidates = exec_candidates(request.argv.front(), path_variable);
  return plan;
}

}  // namespace airlock::sandbox
