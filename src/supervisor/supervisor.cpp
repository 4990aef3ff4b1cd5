#include "supervisor/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "audit/audit_log.h"
#include "common/errno_text.h"
#include "control/control_server.h"
#include "control/sandbox_usage.h"
#include "credentials/credential_vault.h"
#include "credentials/secret_environment.h"
#include "egress/dropped_datagrams.h"
#include "egress/egress_proxy.h"
#include "egress/sandbox_network.h"
#include "egress/socket_owner.h"
#include "intercept/interception.h"
#include "observe/exec_watcher.h"
#include "publish/agent_directories.h"
#include "publish/publish_server.h"
#include "sandbox/cgroup_limits.h"
#include "sandbox/child.h"
#include "sandbox/child_report.h"
#include "sandbox/exec_listener.h"
#include "sandbox/kernel_features.h"
#include "sandbox/user_namespace.h"
#include "supervisor/quarantine.h"

extern char** environ;

namespace airlock::supervisor {
namespace {

using sandbox::LaunchPlan;
using sandbox::Report;
using sandbox::ReportKind;

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
constexpr auto kTimeoutGrace = std::chrono::seconds(5);

void say(const std::string& line) {
  fmt::print(stderr, "airlock: {}\n", line);
}

struct Layers {
  std::vector<std::string> enforced;
  std::vector<std::string> missing;  // each "layer: why"
  sandbox::CgroupChoice cgroups;     // where the memory and pids limits are enforced
  uint32_t process_rlimit = 0;       // RLIMIT_NPROC in the sandbox; 0: none
};

Layers assess_layers(const LaunchPlan& plan, int landlock_abi) {
  Layers layers;
  layers.enforced = {"namespaces:user,mount,pid,ipc,uts,net,cgroup",
                     "pivot_root",
                     plan.egress.enabled
                         ? "network:allowlist (nftables capture -> airlock proxy, DNS stub)"
                         : "network:none (loopback only)",
                     "capabilities:none",
                     "no_new_privs",
                     "seccomp:default"};
  if (!plan.seccomp_allowlist.empty()) layers.enforced.emplace_back("seccomp:allowlist");
  layers.enforced.emplace_back(plan.new_session ? "tty:new-session" : "tty:ioctl-filter");
  if (plan.started_by_root) layers.enforced.emplace_back("identity:uid-65534,idmapped-workspace");
  if (landlock_abi > 0) {
    layers.enforced.push_back(fmt::format("landlock:abi-{}", landlock_abi));
  } else {
    layers.missing.emplace_back("landlock: the kernel does not offer Landlock");
  }
  if (plan.max_open_files)
    layers.enforced.push_back(fmt::format("files:rlimit-nofile={}", *plan.max_open_files));
  // Decided once here; run() creates exactly the cgroups this list claims.
  layers.cgroups =
      sandbox::choose_cgroups(plan.max_memory_bytes.has_value(), plan.max_pids.has_value());
  if (plan.max_memory_bytes) {
    if (layers.cgroups.memory) {
      layers.enforced.push_back(fmt::format("memory:{}={}MiB", layer_name(*layers.cgroups.memory),
                                            *plan.max_memory_bytes >> 20));
    } else {
      layers.missing.push_back("memory limit: " + layers.cgroups.memory_problem);
    }
  }
  if (plan.max_pids) {
    // RLIMIT_NPROC limits the sandbox's tasks even without a pids cgroup. With one, it sits one
    // above pids.max as a second layer: the cgroup then refuses the fork first, and its
    // pids.events counts the refusal that sandbox.limit reports (both count every task).
    layers.process_rlimit = *plan.max_pids + (layers.cgroups.pids ? 1U : 0U);
    layers.enforced.push_back(fmt::format("pids:rlimit-nproc={}", layers.process_rlimit));
    if (layers.cgroups.pids) {
      layers.enforced.push_back(
          fmt::format("pids:{}={}", layer_name(*layers.cgroups.pids), *plan.max_pids));
    }
  }
  if (plan.timeout_seconds)
    layers.enforced.push_back(fmt::format("timeout:{}s", *plan.timeout_seconds));
  return layers;
}

std::string describe_failure(const LaunchPlan& plan, const Report& report) {
  std::string what = sandbox::describe(report.step);
  if (report.value >= 0 && static_cast<size_t>(report.value) < plan.mounts.size()) {
    what += " " + plan.mounts[static_cast<size_t>(report.value)].inside;
  }
  if (report.step == sandbox::Step::exec) {
    return fmt::format("cannot execute {}: {}", plan.argv.front(), errno_text(report.error));
  }
  std::string line = fmt::format("cannot {}: {}", what, errno_text(report.error));
  if (report.step == sandbox::Step::workspace_idmap) {
    line +=
        "; the workspace's filesystem may not support idmapped mounts: run airlock as the "
        "workspace's owner instead of root";
  }
  return line;
}

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

bool read_report(int fd, Report& report) {
  ssize_t n;
  do {
    n = ::read(fd, &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof report);
}

class Supervision {
 public:
  Supervision(const LaunchPlan& plan, const SupervisorOptions& options,
              const audit::AuditLog& audit, std::shared_ptr<audit::EventTap> events)
      : plan_(plan), options_(options), audit_(audit), events_(std::move(events)) {}

  int run(const Layers& layers, int landlock_abi) {
    std::optional<sandbox::CgroupLimits> cgroups;
    if (layers.cgroups.memory || layers.cgroups.pids) {
      auto created = sandbox::CgroupLimits::create(plan_.sandbox_id, layers.cgroups,
                                                   plan_.max_memory_bytes, plan_.max_pids);
      if (!created) return fail(created.error().message);
      cgroups.emplace(std::move(created).value());
    }

    // Before the clone: the mount of each directory needs its source.
    Result<publish::AgentDirectories> agent_directories = publish::AgentDirectories::make(
        plan_.publish_directories, plan_.started_by_root, plan_.sandbox_uid, plan_.sandbox_gid);
    if (!agent_directories) return fail(agent_directories.error().message);

    // The sync channel is a socket so that it can carry the user namespaces too (root case).
    int sync_pair[2];
    int report_pipe[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pair) != 0 ||
        ::pipe2(report_pipe, O_CLOEXEC) != 0) {
      return fail("cannot create the channels to the sandbox: " + errno_text(errno));
    }
    UniqueFd sync_read(sync_pair[0]), sync_write(sync_pair[1]);
    UniqueFd report_read(report_pipe[0]), report_write(report_pipe[1]);

    sigset_t blocked, original;
    sigemptyset(&blocked);
    for (int signal : kForwardedSignals) sigaddset(&blocked, signal);
    sigaddset(&blocked, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &blocked, &original);
    UniqueFd signals(::signalfd(-1, &blocked, SFD_CLOEXEC));
    if (!signals.valid()) return fail("cannot create a signalfd: " + errno_text(errno));

    std::vector<char*> argv = pointers(plan_.argv);
    std::vector<char*> envp = pointers(plan_.environment);
    sandbox::ChildContext context;
    context.plan = &plan_;
    context.argv = argv.data();
    context.envp = envp.data();
    context.sync_read_fd = sync_read.get();
    context.report_write_fd = report_write.get();
    sandbox::ReceivedUserNamespaces user_namespaces;  // the child fills in its copy
    std::optional<sandbox::HeldUserNamespace> idmap_ns, sandbox_user_ns;  // reaped at return
    if (plan_.started_by_root) context.user_namespaces = &user_namespaces;
    context.landlock_abi = landlock_abi;
    context.cap_last_cap = sandbox::last_capability();
    context.process_rlimit = layers.process_rlimit;
    const std::string own_uid_map = fmt::format("{} {} 1\n", plan_.sandbox_uid, ::getuid());
    const std::string own_gid_map = fmt::format("{} {} 1\n", plan_.sandbox_gid, ::getgid());
    if (!plan_.started_by_root) {
      context.own_uid_map = own_uid_map.c_str();
      context.own_gid_map = own_gid_map.c_str();
    }
    context.original_mask = original;
    // A session waits too: its pid namespace is read (for `ps`) before the init turns undumpable.
    // So does a sandbox with published sockets or links, whose network namespace is joined
    // first (a link's listener inside is ours before the agent runs).
    context.wait_for_setup = cgroups.has_value() || plan_.egress.enabled || plan_.session ||
                             !plan_.policy.publish.empty() || !options_.links.empty();
    const std::vector<sandbox::SecretRegion> secrets = secret_regions();
    context.secrets = secrets.data();
    context.secret_count = secrets.size();

    // Started by root, the user namespace comes last (see child.cpp): the others are created
    // by real root so that the sandbox user owns none of them.
    unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
    if (!plan_.started_by_root) flags |= CLONE_NEWUSER;
    started_ = std::chrono::steady_clock::now();
    pid_t child = static_cast<pid_t>(
        ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (child < 0) {
      std::string why = errno_text(errno);
      if (errno == EPERM || errno == ENOSPC) why += " (are unprivileged user namespaces disabled?)";
      return fail("cannot create the sandbox namespaces: " + why);
    }
    if (child == 0) sandbox::run_child(context);
    child_ = child;
    started_unix_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    sync_read.reset();
    report_write.reset();

    if (plan_.started_by_root) {
      if (Status passed = pass_user_namespaces(sync_write.get(), idmap_ns, sandbox_user_ns);
          !passed) {
        return abort_child(passed.error().message);
      }
    }
    if (cgroups) {
      if (Status added = cgroups->add(child); !added) return abort_child(added.error().message);
    }
    // Before any other thread: the socket maker of published ports is forked from here.
    std::unique_ptr<publish::PublishServer> published;
    if (!plan_.policy.publish.empty() || !options_.links.empty()) {
      Result<std::unique_ptr<publish::PublishServer>> created = start_publish(child);
      if (!created) return abort_child(created.error().message);
      published = std::move(created).value();
    }
    // The run CA is made now, after the clone, so the sandbox's init has no copy of its key.
    if (options_.interception != nullptr) {
      Status issued = options_.interception->issue_ca(
          fmt::format("{} {}", plan_.policy.name, plan_.sandbox_id), options_.trust_bundle_path);
      if (!issued) return abort_child("cannot set up TLS interception: " + issued.error().message);
    }
    std::unique_ptr<egress::EgressProxy> proxy;
    if (plan_.egress.enabled) {
      Result<std::unique_ptr<egress::EgressProxy>> started = start_egress(child);
      if (!started) return abort_child(started.error().message);
      proxy = std::move(started).value();
    }
    if (options_.control != nullptr) sandbox_pid_namespace_ = egress::pid_namespace_of(child);
    if (context.wait_for_setup && !release(sync_write.get())) {
      return abort_child("the sandbox died during set-up");
    }
    // Before the agent's own exec, which waits for it. No listener: the child failed during
    // set-up, and its report (read next) says why.
    std::unique_ptr<observe::ExecWatcher> exec_watcher;
    if (plan_.watch_exec) {
      if (Result<UniqueFd> listener = sandbox::receive_exec_listener(sync_write.get())) {
        Result<std::unique_ptr<observe::ExecWatcher>> watcher =
            observe::ExecWatcher::start(std::move(listener).value(), audit_);
        if (!watcher) return abort_child(watcher.error().message);
        exec_watcher = std::move(watcher).value();
      }
    }

    // From here on the sync socket is the session channel, the control thread's alone.
    if (options_.control != nullptr) start_control(proxy.get(), sync_write.get());

    int exit_code = supervise(report_read.get(), signals.get(), layers);
    exec_watcher.reset();
    if (proxy) proxy->stop();          // every open connection gets its close event before the exit
    if (published) published->stop();  // the same for published sockets, which are removed
    record_dropped();                  // no other thread is left: the counting helper may fork
    ::sigprocmask(SIG_SETMASK, &original, nullptr);
    quarantine_created();
    record_exit(exit_code,
                cgroups ? std::optional<sandbox::CgroupUsage>(cgroups->usage()) : std::nullopt);
    if (cgroups) {
      if (Status removed = cgroups->remove(); !removed) say(removed.error().message);
    }
    // Last: followers of `logs` see sandbox.exit, and `stop` returns once everything is gone.
    if (options_.control != nullptr) options_.control->stop();
    return exit_code;
  }

 private:
  // What the child zeroes in its copy of our memory: each credential's value, and the value of
  // every caller variable that looks like a secret or is a credential's source.
  std::vector<sandbox::SecretRegion> secret_regions() const {
    std::vector<sandbox::SecretRegion> regions;
    if (options_.credentials != nullptr) {
      for (const credentials::HeaderCredential& credential :
           options_.credentials->header_credentials()) {
        regions.push_back({const_cast<char*>(credential.real.data()), credential.real.size()});
      }
    }
    std::set<std::string> sources;
    for (const policy::CredentialRule& rule : plan_.policy.credentials) {
      if (rule.from.rfind("env:", 0) == 0) sources.insert(rule.from.substr(4));
    }
    for (char** entry = environ; *entry != nullptr; ++entry) {
      char* equals = std::strchr(*entry, '=');
      if (equals == nullptr) continue;
      const std::string name(*entry, static_cast<size_t>(equals - *entry));
      if (credentials::looks_like_secret(name) || sources.count(name) != 0)
        regions.push_back({equals + 1, std::strlen(equals + 1)});
    }
    return regions;
  }

  // observe: one `egress.dropped` event per destination the fence dropped datagrams to.
  void record_dropped() {
    if (!dropped_) return;
    Result<std::vector<egress::DroppedDatagrams>> counts = dropped_->read();
    dropped_.reset();  // the sandbox's network namespace goes with it
    if (!counts) {
      say("cannot read the dropped-datagram counts: " + counts.error().message);
      return;
    }
    for (const egress::DroppedDatagrams& dropped : *counts) {
      nlohmann::json fields = {{"protocol", dropped.protocol},
                               {"address", dropped.address},
                               {"packets", dropped.packets}};
      if (dropped.protocol == "udp") fields["port"] = dropped.port;
      audit_.record("egress.dropped", fields);
    }
  }

  void start_control(const egress::EgressProxy* proxy, int session_channel) {
    control::SandboxSummary summary;
    summary.name = options_.name;
    summary.id = plan_.sandbox_id;
    summary.kind = plan_.session ? "session" : "run";
    summary.policy_name = plan_.policy.name;
    summary.policy_sha256 = plan_.policy_sha256;
    if (!plan_.session) summary.command = plan_.argv;
    summary.workspace = plan_.workspace;
    summary.supervisor_pid = ::getpid();
    summary.sandbox_pid = child_;
    summary.started_unix_ms = started_unix_ms_;
    for (const policy::PublishRule& rule : plan_.policy.publish)
      summary.published.push_back(rule.unix_path);
    summary.links = links_summary();
    control::ControlHooks hooks;
    hooks.events = events_;
    if (proxy != nullptr) hooks.counters = &proxy->counters();
    if (sandbox_pid_namespace_) {
      const egress::PidNamespaceId sandbox = *sandbox_pid_namespace_;
      const pid_t init = child_;
      hooks.usage = [sandbox, init] { return control::sandbox_usage(sandbox, init); };
    }
    if (options_.credentials != nullptr) {
      credentials::CredentialVault* vault = options_.credentials;
      hooks.revoke_credential = [vault](const std::string& name) { return vault->revoke(name); };
    }
    if (plan_.session) {
      hooks.session_channel = session_channel;
      hooks.session_environment = plan_.environment;
      hooks.session_directory = plan_.working_directory;
    }
    options_.control->start(std::move(summary), std::move(hooks), audit_);
  }

  int fail(const std::string& line) {
    say(line);
    return kExitSetupFailed;
  }

  // The policy's publish entries and the stack's links, served from here (src/publish/).
  Result<std::unique_ptr<publish::PublishServer>> start_publish(pid_t child) {
    std::vector<publish::PublishTarget> targets;
    size_t next_directory = 0;
    for (const policy::PublishRule& rule : plan_.policy.publish) {
      publish::PublishTarget target;
      target.rule = rule;
      if (rule.port == 0) {
        const sandbox::PublishDirectory& directory = plan_.publish_directories[next_directory++];
        target.inner_socket = directory.host + "/" + directory.socket_name;
      }
      targets.push_back(std::move(target));
    }
    targets.insert(targets.end(), options_.links.begin(), options_.links.end());
    Result<std::unique_ptr<publish::PublishServer>> server =
        publish::PublishServer::create(std::move(targets), child, !plan_.started_by_root, audit_);
    if (!server) return server.error();
    server.value()->start();
    return std::move(server).value();
  }

  // Routes, nftables capture and listeners inside the sandbox's network namespace, then the
  // proxy that serves them from here (the host namespace).
  Result<std::unique_ptr<egress::EgressProxy>> start_egress(pid_t child) {
    // Local endpoints are captured like localhost:PORT rules; the proxy tells them apart.
    std::vector<uint16_t> captured = plan_.egress.host_loopback_ports;
    captured.insert(captured.end(), plan_.egress.endpoint_ports.begin(),
                    plan_.egress.endpoint_ports.end());
    Result<egress::SandboxListeners> listeners = egress::install_sandbox_capture(
        child, !plan_.started_by_root, captured, options_.observe != egress::ObserveMode::off);
    if (!listeners) return listeners.error();
    if (options_.observe != egress::ObserveMode::off) {
      Result<egress::DroppedDatagramCounter> counter =
          egress::DroppedDatagramCounter::hold(child, !plan_.started_by_root);
      if (!counter) return counter.error();
      dropped_.emplace(std::move(counter).value());
    }
    // Thousands of tunnels need thousands of descriptors (the sandbox's own limit is separate).
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &files);
    }
    Result<std::unique_ptr<egress::EgressProxy>> proxy = egress::EgressProxy::create(
        std::move(listeners).value(), plan_.policy.network, audit_, child, options_.credentials,
        options_.interception, options_.observe, link_names());
    if (!proxy) return proxy.error();
    proxy.value()->start();
    return std::move(proxy).value();
  }

  // {"out": [{name, port, to}], "in": [{from, port}]}: for `ps` and sandbox.start.
  nlohmann::json links_summary() const {
    nlohmann::json links = nlohmann::json::object();
    for (const publish::PublishTarget& link : options_.links) {
      if (link.kind == publish::CrossingKind::link_out) {
        links["out"].push_back(
            {{"name", link.link_name}, {"port", link.rule.port}, {"to", link.link_to}});
      } else {
        links["in"].push_back({{"from", link.link_from}, {"port", link.rule.port}});
      }
    }
    return links;
  }

  // What the DNS stub answers for the names of this sandbox's links.
  std::map<std::string, egress::IpAddress> link_names() const {
    std::map<std::string, egress::IpAddress> names;
    for (const sandbox::LinkHost& host : publish::link_hosts(options_.links)) {
      if (std::optional<egress::IpAddress> address = egress::IpAddress::parse(host.address))
        names.emplace(host.name, *address);
    }
    return names;
  }

  int abort_child(const std::string& line) {
    ::kill(child_, SIGKILL);
    reap_blocking();
    return fail(line);
  }

  static bool release(int sync_write) {
    char go = 'g';
    return ::send(sync_write, &go, 1, MSG_NOSIGNAL) == 1;  // the child may be gone: no SIGPIPE
  }

  // Made while the child builds its view (it waits only if it gets to the workspace first).
  // The caller keeps both until the sandbox has run, so that their helpers are reaped dead.
  Status pass_user_namespaces(int sync_write, std::optional<sandbox::HeldUserNamespace>& idmap,
                              std::optional<sandbox::HeldUserNamespace>& sandbox_user) const {
    Result<sandbox::HeldUserNamespace> made_idmap = sandbox::HeldUserNamespace::make(
        plan_.workspace_owner_uid, plan_.sandbox_uid, plan_.workspace_owner_gid, plan_.sandbox_gid);
    if (!made_idmap) return Error{"cannot map the workspace owner: " + made_idmap.error().message};
    idmap.emplace(std::move(made_idmap).value());
    Result<sandbox::HeldUserNamespace> made_user = sandbox::HeldUserNamespace::make(
        plan_.sandbox_uid, plan_.sandbox_uid, plan_.sandbox_gid, plan_.sandbox_gid);
    if (!made_user) {
      return Error{"cannot make the sandbox's user namespace: " + made_user.error().message};
    }
    sandbox_user.emplace(std::move(made_user).value());
    Status sent = sandbox::send_user_namespaces(sync_write, idmap->fd(), sandbox_user->fd());
    idmap->close_namespace();  // the child holds them now
    sandbox_user->close_namespace();
    return sent;
  }

  void reap_blocking() {
    while (::waitpid(child_, &child_status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }

  int supervise(int report_fd, int signal_fd, const Layers& layers) {
    std::optional<int> setup_exit;
    bool report_open = true;
    for (;;) {
      int timeout_ms = -1;
      if (plan_.timeout_seconds && !timeout_killed_) timeout_ms = milliseconds_until_deadline();
      // A closed report pipe keeps signalling POLLHUP: leave it out (fd -1) once drained.
      pollfd fds[2] = {{signal_fd, POLLIN, 0}, {report_open ? report_fd : -1, POLLIN, 0}};
      int ready = ::poll(fds, 2, timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        on_timeout();
        continue;
      }
      if (report_open && (fds[1].revents & (POLLIN | POLLHUP)) != 0) {
        Report report{};
        if (!read_report(report_fd, report)) {
          report_open = false;
        } else if (std::optional<int> code = on_report(report, layers)) {
          setup_exit = code;
        }
      }
      if ((fds[0].revents & POLLIN) != 0) {
        signalfd_siginfo info{};
        if (::read(signal_fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
        if (info.ssi_signo == SIGCHLD) {
          if (::waitpid(child_, &child_status_, WNOHANG) == child_) {
            reaped_ = true;
            drain_reports(report_fd, layers, setup_exit);
            if (setup_exit) return *setup_exit;
            return WIFEXITED(child_status_) ? WEXITSTATUS(child_status_)
                                            : 128 + WTERMSIG(child_status_);
          }
        } else if (info.ssi_code != SI_KERNEL || plan_.new_session) {
          // Terminal-generated signals already reached the sandbox's process group.
          ::kill(child_, static_cast<int>(info.ssi_signo));
        }
      }
    }
  }

  void drain_reports(int report_fd, const Layers& layers, std::optional<int>& setup_exit) {
    Report report{};
    pollfd fd{report_fd, POLLIN, 0};
    while (::poll(&fd, 1, 0) == 1 && (fd.revents & POLLIN) != 0 && read_report(report_fd, report)) {
      if (std::optional<int> code = on_report(report, layers)) setup_exit = code;
    }
  }

  // Returns an exit code when the report ends the run before the agent started.
  std::optional<int> on_report(const Report& report, const Layers& layers) {
    switch (report.kind) {
      case ReportKind::setup_failed: {
        say(describe_failure(plan_, report));
        audit_.record("sandbox.setup_failed", {{"step", sandbox::describe(report.step)},
                                               {"error", errno_text(report.error)}});
        if (report.step == sandbox::Step::exec) return report.error == ENOENT ? 127 : 126;
        return kExitSetupFailed;
      }
      case ReportKind::started:
        record_start(layers);
        if (options_.on_ready) options_.on_ready();
        return std::nullopt;
      case ReportKind::exited:
        agent_status_ = report.value;
        return std::nullopt;
    }
    return std::nullopt;
  }

  int milliseconds_until_deadline() const {
    using namespace std::chrono;
    auto deadline =
        started_ + seconds(*plan_.timeout_seconds) + (timeout_sent_ ? kTimeoutGrace : seconds(0));
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
  }

  void on_timeout() {
    if (!timeout_sent_) {
      timeout_sent_ = true;
      audit_.record("sandbox.limit", {{"limit", "timeout"}, {"seconds", *plan_.timeout_seconds}});
      say(fmt::format("timeout of {}s reached: stopping the sandbox", *plan_.timeout_seconds));
      ::kill(child_, SIGTERM);
    } else {
      ::kill(child_, SIGKILL);
      timeout_killed_ = true;
    }
  }

  void record_start(const Layers& layers) {
    if (options_.verbose) {
      say(fmt::format("sandbox {}/{} started (pid {}), layers: {}", plan_.policy.name,
                      plan_.sandbox_id, child_, fmt::join(layers.enforced, ", ")));
    }
    if (!audit_.enabled()) return;  // the event is built only for a log that keeps it
    nlohmann::json fields = {
        {"policy",
         {{"name", plan_.policy.name},
          {"sha256", plan_.policy_sha256},
          {"extends", plan_.policy.extends}}},
        {"command", plan_.argv},
        {"workspace", plan_.workspace},
        {"uid", plan_.sandbox_uid},
        {"pid", child_},
        {"layers", layers.enforced},
        {"degraded", layers.missing},
        {"protect_absent", plan_.protect_absent},
    };
    // Names and bindings only: a credential's value is never written anywhere.
    nlohmann::json credentials = nlohmann::json::array();
    for (const policy::CredentialRule& rule : plan_.policy.credentials) {
      if (rule.type == policy::CredentialType::mtls) {
        credentials.push_back({{"name", rule.name},
                               {"type", "mtls"},
                               {"host", rule.host + ":" + std::to_string(rule.port)}});
      } else {
        credentials.push_back({{"name", rule.name},
                               {"type", "header"},
                               {"hosts", rule.hosts},
                               {"endpoint", rule.endpoint_variable}});
      }
    }
    fields["credentials"] = credentials;
    if (options_.observe != egress::ObserveMode::off) {
      fields["observe"] = egress::to_string(options_.observe);
    }
    if (options_.control != nullptr) {
      fields["control"] = {{"name", options_.name},
                           {"kind", plan_.session ? "session" : "run"},
                           {"socket", options_.control->path()}};
    }
    if (!options_.links.empty()) fields["links"] = links_summary();
    audit_.record("sandbox.start", fields);
  }

  void quarantine_created() {
    for (const QuarantinedPath& entry :
         quarantine_created_paths(plan_.workspace, plan_.protect_absent, plan_.sandbox_id)) {
      if (entry.problem.empty()) {
        say(fmt::format(
            "the sandbox created {} (a protected path that runs outside it); moved it to {}",
            entry.path, entry.moved_to));
      } else {
        say(
            fmt::format("the sandbox created {} (a protected path); could not move it aside: {} -- "
                        "inspect it before using this workspace",
                        entry.path, entry.problem));
      }
      audit_.record(
          "workspace.quarantine",
          {{"path", entry.path}, {"moved_to", entry.moved_to}, {"problem", entry.problem}});
    }
  }

  void record_exit(int exit_code, const std::optional<sandbox::CgroupUsage>& usage) {
    using namespace std::chrono;
    const auto duration = duration_cast<milliseconds>(steady_clock::now() - started_).count();
    nlohmann::json fields = {{"exit_code", exit_code}, {"duration_ms", duration}};
    if (agent_status_ && WIFSIGNALED(*agent_status_)) fields["signal"] = WTERMSIG(*agent_status_);
    rusage children{};
    ::getrusage(RUSAGE_CHILDREN, &children);
    if (usage && usage->peak_memory_bytes) {
      fields["peak_memory_bytes"] = *usage->peak_memory_bytes;
      fields["peak_memory_source"] = "cgroup";
    } else {
      fields["peak_memory_bytes"] = static_cast<uint64_t>(children.ru_maxrss) * 1024;
      fields["peak_memory_source"] = "largest process rss";
    }
    if (usage && (usage->memory_limit_hits > 0 || usage->oom_kills > 0)) {
      audit_.record("sandbox.limit", {{"limit", "memory"},
                                      {"max_memory_bytes", *plan_.max_memory_bytes},
                                      {"refused_allocations", usage->memory_limit_hits},
                                      {"oom_kills", usage->oom_kills}});
      if (usage->oom_kills > 0)
        say("the sandbox hit its memory limit: the kernel killed a process");
    }
    if (usage && usage->pids_limit_hits > 0) {
      audit_.record("sandbox.limit", {{"limit", "pids"},
                                      {"max_pids", *plan_.max_pids},
                                      {"refused_forks", usage->pids_limit_hits}});
    }
    audit_.record("sandbox.exit", fields);
  }

  const LaunchPlan& plan_;
  const SupervisorOptions& options_;
  const audit::AuditLog& audit_;
  std::shared_ptr<audit::EventTap> events_;  // `airlock logs`; null without a control socket
  pid_t child_ = -1;
  int child_status_ = 0;
  bool reaped_ = false;
  bool timeout_sent_ = false;
  bool timeout_killed_ = false;
  std::optional<int> agent_status_;
  std::chrono::steady_clock::time_point started_;
  std::optional<egress::DroppedDatagramCounter> dropped_;  // observe only
  int64_t started_unix_ms_ = 0;
  std::optional<egress::PidNamespaceId> sandbox_pid_namespace_;  // for `ps`
};

}  // namespace

int run_sandbox(const LaunchPlan& plan, const SupervisorOptions& options) {
  const int landlock_abi = sandbox::landlock_abi_version();
  const Layers layers = assess_layers(plan, landlock_abi);
  if (!layers.missing.empty()) {
    for (const std::string& missing : layers.missing) {
      say(std::string(options.allow_degraded ? "degraded: " : "cannot enforce ") + missing);
    }
    if (!options.allow_degraded) {
      say("refusing to run with a layer missing; pass --allow-degraded to run anyway");
      return kExitSetupFailed;
    }
  }
  Result<audit::AuditLog> audit =
      audit::AuditLog::open(options.audit_path, plan.policy.name, plan.sandbox_id);
  if (!audit) {
    say(audit.error().message);
    return kExitBadInput;
  }
  std::shared_ptr<audit::EventTap> events;
  if (options.control != nullptr) {
    events = std::make_shared<audit::EventTap>();
    audit.value().attach_tap(events);
  }
  Supervision supervision(plan, options, *audit, events);
  return supervision.run(layers, landlock_abi);
}

}  // namespace airlock::supervisor
