// syscalls: what the seccomp filters refuse, by class (seccomp/filter_builder.cpp). Refused
// names come from the filter's own list; a name this table does not classify still shows, in
// an "unclassified" row, so the table can never hide a refusal (the unit test keeps it empty).
#include <fmt/format.h>

#include <algorithm>

#include "explain/rows.h"
#include "explain/syscall_classes.h"
#include "seccomp/filter_builder.h"

namespace airlock::explain {
namespace {

CapabilityRow syscall_row(Verdict verdict, std::vector<std::string> targets, std::string scope,
                          std::vector<Layer> layers) {
  CapabilityRow row;
  row.capability = "syscalls";
  row.verdict = verdict;
  row.targets = std::move(targets);
  row.scope = std::move(scope);
  row.layers = std::move(layers);
  return row;
}

void add_refused_by_name(std::vector<CapabilityRow>& rows) {
  const std::vector<std::string>& refused = seccomp::default_denied_syscalls();
  std::vector<std::string> unclassified = refused;
  for (const SyscallClass& family : syscall_classes()) {
    std::vector<std::string> names;
    for (const std::string& name : refused) {
      if (std::find(family.names.begin(), family.names.end(), name) != family.names.end())
        names.push_back(name);
    }
    std::erase_if(unclassified, [&](const std::string& name) {
      return std::find(names.begin(), names.end(), name) != names.end();
    });
    std::vector<std::string> targets = names;
    for (const std::string& rule : family.argument_rules) targets.push_back(rule);
    if (targets.empty()) continue;
    rows.push_back(
        syscall_row(Verdict::denied, std::move(targets), family.description, family.layers));
  }
  if (!unclassified.empty()) {
    rows.push_back(syscall_row(Verdict::denied, unclassified, "refused, not yet classified (EPERM)",
                               {Layer::seccomp}));
  }
}

}  // namespace

void add_syscall_rows(const policy::Policy& policy, std::vector<CapabilityRow>& rows) {
  const policy::SyscallPolicy& syscalls = policy.process.syscalls;
  if (!syscalls.use_default) {
    CapabilityRow allowlist = syscall_row(
        Verdict::granted, syscalls.allow,
        fmt::format("only these {} syscalls; any other fails with EPERM (an allowlist filter "
                    "stacked on the default one, whose refusals below still hold)",
                    syscalls.allow.size()),
        {Layer::seccomp});
    allowlist.source = source_of(syscalls.where);
    rows.push_back(std::move(allowlist));
  }
  add_refused_by_name(rows);
  rows.push_back(syscall_row(
      Verdict::denied, {"socket(family not unix/inet/inet6/netlink)", "socketpair(same)"},
      "address families other than AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK: packet, raw "
      "link-layer, vsock, alg, bluetooth, xdp... (EAFNOSUPPORT); AF_NETLINK other than "
      "NETLINK_ROUTE: no sock_diag, audit, netfilter or uevent sockets (EPERM)",
      {Layer::seccomp}));
  rows.push_back(syscall_row(Verdict::denied, {"ioctl(TIOCSTI)", "ioctl(TIOCLINUX)"},
                             "pushing input into the terminal (EPERM); without a tty the command "
                             "also runs in a new session",
                             {Layer::seccomp}));
  rows.push_back(syscall_row(
      Verdict::denied,
      {"personality(READ_IMPLIES_EXEC|MMAP_PAGE_ZERO|ADDR_COMPAT_LAYOUT|ADDR_LIMIT_3GB)"},
      "personality flags that weaken memory protections (EPERM; the query stays allowed)",
      {Layer::seccomp}));
  rows.push_back(syscall_row(Verdict::denied, {"i386 (int 0x80)", "x32"},
                             "any syscall through another ABI kills the process",
                             {Layer::seccomp}));
}

}  // namespace airlock::explain
