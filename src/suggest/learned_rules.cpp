#include "suggest/learned_rules.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "egress/address_class.h"
#include "egress/host_matcher.h"
#include "egress/ip_address.h"
#include "lint/known_endpoints.h"
#include "lint/public_suffix.h"

namespace airlock::suggest {
namespace {

using Destination = std::pair<std::string, uint16_t>;

std::string destination_text(const std::string& host, uint16_t port) {
  return LearnedRule{host, port, {}, std::nullopt}.text();
}

void add_programs(ProgramCounts& into, const ProgramCounts& from) {
  for (const auto& [program, count] : from) into[program] += count;
}

// Where an address rule goes that must not be written, or the flag a reviewer needs to see.
struct AddressJudgement {
  std::optional<std::string> refusal;
  std::optional<std::string> flag;
};

AddressJudgement judge_address(const egress::IpAddress& address) {
  const egress::AddressVerdict verdict = egress::classify_address(address);
  const std::string text = address.to_string();
  const std::string effective = verdict.effective.to_string();
  if (effective == "169.254.169.254" || effective == "fd00:ec2::254") {
    return {"the cloud metadata service hands out the machine's credentials: it stays denied",
            std::nullopt};
  }
  switch (verdict.kind) {
    case egress::AddressClass::unspecified:
    case egress::AddressClass::multicast:
    case egress::AddressClass::broadcast:
      return {fmt::format("a {} address is never a server: it stays denied",
                          egress::to_string(verdict.kind)),
              std::nullopt};
    case egress::AddressClass::public_unicast:
      return {std::nullopt,
              "address rule: the program dialled this public address directly; an address rule "
              "skips the name checks, so prefer the host's name if it has one"};
    case egress::AddressClass::loopback:
      return {std::nullopt, "internal: " + text +
                                " is the host's loopback; listed only because "
                                "it was observed"};
    case egress::AddressClass::private_use:
      return {std::nullopt, "internal: " + text +
                                " is a private address (RFC 1918); listed only "
                                "because it was observed"};
    case egress::AddressClass::link_local:
      return {std::nullopt, "internal: " + text +
                                " is link-local; listed only because it was "
                                "observed"};
    default:
      return {std::nullopt, fmt::format("internal: {} is a {} address; listed only because it "
                                        "was observed",
                                        text, egress::to_string(verdict.kind))};
  }
}

class RuleCollector {
 public:
  explicit RuleCollector(const policy::NetworkPolicy& base)
      : base_(base.mode == policy::NetworkMode::allowlist ? base.allow
                                                          : std::vector<policy::NetworkRule>{},
              base.deny) {}

  // One attempt's need for host:port, counted once per attempt.
  void need(const std::string& host, uint16_t port, const std::string& program,
            bool* already_allowed) {
    std::optional<egress::IpAddress> address = egress::IpAddress::parse(host);
    egress::RuleMatch match =
        address ? base_.match_address(*address, port) : base_.match_name(host, port);
    if (match.allowed) {
      *already_allowed = true;
      return;
    }
    const Destination key{host, port};
    if (match.rule != nullptr) {
      unlearned_[key].why = "stays denied by the base's deny rule " + match.rule_text();
      unlearned_[key].programs[program] += 1;
      return;
    }
    if (address) {
      AddressJudgement judgement = judge_address(*address);
      if (judgement.refusal) {
        unlearned_[key].why = *judgement.refusal;
        unlearned_[key].programs[program] += 1;
        return;
      }
      flags_[key] = *judgement.flag;
    } else if (host == "localhost") {
      flags_[key] = "internal: the host's own loopback port " + std::to_string(port) +
                    " (localhost:PORT leads there); listed only because it was observed";
    }
    needed_[key][program] += 1;
  }

  void cannot_fix(const ConnectionAttempt& attempt) {
    UnlearnedDestination& entry = unlearned_[{attempt.host, attempt.port}];
    if (entry.why.empty()) {
      entry.why = "no rule can fix this (an attack or a bug, not a need): " + attempt.reason;
    }
    entry.programs[attempt.program] += 1;
  }

  Status collapse(uint32_t siblings_needed) {
    Result<const lint::PublicSuffixList*> suffixes = lint::PublicSuffixList::get();
    if (!suffixes) return Error{"--collapse: " + suffixes.error().message};
    Result<const lint::KnownHosts*> known = lint::known_hosts();
    if (!known) return Error{"--collapse: " + known.error().message};
    std::map<Destination, std::vector<std::string>> by_parent;
    for (const auto& [key, programs] : needed_) {
      const auto& [host, port] = key;
      const size_t dot = host.find('.');
      if (flags_.count(key) != 0 || dot == std::string::npos) continue;  // addresses, localhost
      by_parent[{host.substr(dot + 1), port}].push_back(host);
    }
    for (const auto& [parent_key, names] : by_parent) {
      const auto& [parent, port] = parent_key;
      if (names.size() < siblings_needed || !collapsible(parent, **suffixes, **known)) continue;
      ProgramCounts merged;
      for (const std::string& name : names) {
        add_programs(merged, needed_[{name, port}]);
        needed_.erase({name, port});
      }
      add_programs(needed_[{"*." + parent, port}], merged);
    }
    return ok_status();
  }

  LearnedRules result() const {
    LearnedRules learned;
    for (const auto& [key, programs] : needed_) {
      LearnedRule rule{key.first, key.second, programs, std::nullopt};
      if (auto flag = flags_.find(key); flag != flags_.end()) rule.flag = flag->second;
      learned.rules.push_back(std::move(rule));
    }
    // Names, then localhost, then addresses; each sorted by host, then port.
    auto rank = [](const LearnedRule& rule) {
      if (egress::IpAddress::parse(rule.host)) return 2;
      return rule.host == "localhost" ? 1 : 0;
    };
    std::stable_sort(learned.rules.begin(), learned.rules.end(),
                     [&](const LearnedRule& a, const LearnedRule& b) {
                       return std::make_tuple(rank(a), a.host, a.port) <
                              std::make_tuple(rank(b), b.host, b.port);
                     });
    for (const auto& [key, entry] : unlearned_) {
      UnlearnedDestination out = entry;
      out.destination = destination_text(key.first, key.second);
      learned.unlearned.push_back(std::move(out));
    }
    return learned;
  }

 private:
  // Never above a registrable domain: "*.github.io" would let anyone's site in.
  static bool collapsible(const std::string& parent, const lint::PublicSuffixList& suffixes,
                          const lint::KnownHosts& known) {
    if (suffixes.is_public_suffix(parent) || !suffixes.registrable_domain(parent)) return false;
    // A shared-tenant suffix (amazonaws.com) under the wildcard is as bad: check refuses it.
    return std::none_of(known.shared_tenant_suffixes.begin(), known.shared_tenant_suffixes.end(),
                        [&](const lint::SharedTenantSuffix& shared) {
                          return shared.suffix == parent || shared.suffix.ends_with("." + parent);
                        });
  }

  egress::HostMatcher base_;
  std::map<Destination, ProgramCounts> needed_;
  std::map<Destination, std::string> flags_;
  std::map<Destination, UnlearnedDestination> unlearned_;
};

}  // namespace

std::string LearnedRule::text() const {
  const bool bracketed = host.find(':') != std::string::npos;
  return (bracketed ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<LearnedRules> learn_rules(const std::vector<ConnectionAttempt>& attempts,
                                 const policy::NetworkPolicy& base,
                                 std::optional<uint32_t> collapse) {
  RuleCollector collector(base);
  uint64_t already_allowed = 0;
  for (const ConnectionAttempt& attempt : attempts) {
    const AttemptNeed need = need_of(attempt);
    if (!need.destination) {
      if (!attempt.host.empty()) collector.cannot_fix(attempt);
      continue;
    }
    bool allowed_by_base = false;
    collector.need(attempt.host, attempt.port, attempt.program, &allowed_by_base);
    if (need.internal_address) {
      bool address_allowed = false;
      collector.need(*need.internal_address, attempt.port, attempt.program, &address_allowed);
      allowed_by_base = allowed_by_base && address_allowed;
    }
    if (allowed_by_base) ++already_allowed;
  }
  if (collapse) {
    if (Status collapsed = collector.collapse(*collapse); !collapsed) return collapsed.error();
  }
  LearnedRules learned = collector.result();
  learned.already_allowed = already_allowed;
  return learned;
}

std::string describe_programs(const ProgramCounts& programs) {
  std::vector<std::pair<std::string, uint64_t>> sorted(programs.begin(), programs.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string text;
  for (const auto& [program, count] : sorted)
    text += fmt::format("{}{} x{}", text.empty() ? "" : ", ", program, count);
  return text;
}

}  // namespace airlock::suggest
