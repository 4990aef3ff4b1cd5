// The parts of the capability table, one builder per area; capability_table.cpp puts them in
// order. Each appends rows for `policy` as `airlock run` would enforce it on `host`.
#pragma once

#include <string>
#include <vector>

#include "explain/capability_table.h"

namespace airlock::explain {

void add_filesystem_rows(const policy::Policy& policy, const HostSupport& host,
                         std::vector<CapabilityRow>& rows);
void add_network_rows(const policy::Policy& policy, std::vector<CapabilityRow>& rows);
void add_credential_rows(const policy::Policy& policy, std::vector<CapabilityRow>& rows);
void add_process_rows(const policy::Policy& policy, const HostSupport& host,
                      std::vector<CapabilityRow>& rows);
void add_syscall_rows(const policy::Policy& policy, std::vector<CapabilityRow>& rows);

// "host:port" as a policy writes it ("[v6]:port" for an IPv6 literal).
std::string rule_text(const policy::NetworkRule& rule);
// "FILE:LINE:COL" of a policy entry, "" when it has no place.
std::string source_of(const policy::SourceLocation& where);

}  // namespace airlock::explain
