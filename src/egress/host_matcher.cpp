#include "egress/host_matcher.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <charconv>
#include <cstring>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>

namespace airlock::egress {
namespace {

constexpr const char* kAllowed = "allowed";
constexpr const char* kDenied = "denied by rule";
constexpr const char* kNoNameRule = "no rule for this host and port";
constexpr const char* kNoAddressRule = "no rule for this address and port";
constexpr size_t kMaxNameLength = 253;                     // what normalise_host lets through
constexpr size_t kMaxCandidates = kMaxNameLength / 2 + 1;  // the name and each of its suffixes

// A rule as the tables hold it: its 1-based position in allow followed by deny; 0 is none.
using RuleId = uint32_t;

uint64_t mix(uint64_t x) {
  // splitmix64's finaliser: keys that differ in a few bits (ports, masked networks) spread out.
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t with_port(uint64_t hash, uint16_t port) {
  return mix(hash ^ (uint64_t{port} << 48 | port));
}

// An immutable open-addressing table whose records sit in the slots themselves (linear probing,
// at most half full), so a lookup costs about one cache miss and independent lookups can all
// be started at once with prefetch().
template <typename Record>
class FlatTable {
 public:
  explicit FlatTable(size_t at_most = 0) {
    size_t capacity = 8;
    while (capacity < at_most * 2) capacity *= 2;
    records_.resize(capacity);
    mask_ = capacity - 1;
  }

  void prefetch(uint64_t hash) const { __builtin_prefetch(&records_[hash & mask_]); }

  template <typename Probe>
  const Record* find(uint64_t hash, const Probe& probe) const {
    for (size_t at = hash & mask_;; at = (at + 1) & mask_) {
      const Record& record = records_[at];
      if (record.empty()) return nullptr;
      if (record.matches(hash, probe)) return &record;
    }
  }

  // The record for `probe`, or the empty one where it goes (the constructor sized the table).
  template <typename Probe>
  Record& slot(uint64_t hash, const Probe& probe) {
    for (size_t at = hash & mask_;; at = (at + 1) & mask_) {
      Record& record = records_[at];
      if (record.empty() || record.matches(hash, probe)) return record;
    }
  }

 private:
  std::vector<Record> records_;
  size_t mask_ = 0;
};

// Which of a name record's rules: "example.com" itself, or "*.example.com" (keyed by
// "example.com"); each allow or deny.
enum NameRuleKind : size_t { exact_allow, exact_deny, below_allow, below_deny };

struct NameProbe {
  std::string_view key;
  uint16_t port = 0;
};

// One (name or wildcard suffix, port) and the first rule of each kind written for it: all that
// match_name needs, in one cache line. Keys up to 32 characters are stored inline.
struct alignas(64) NameRecord {
  static constexpr size_t kInlineKey = 32;
  uint32_t tag = 0;  // more bits of the hash, compared before the key
  uint16_t port = 0;
  uint8_t key_size = 0;  // 0: empty slot (no key is empty)
  std::array<RuleId, 4> rules{};
  const char* long_key = nullptr;  // the rule's own string, when longer than kInlineKey
  std::array<char, kInlineKey> inline_key{};

  bool empty() const { return key_size == 0; }
  std::string_view key() const {
    return {key_size <= kInlineKey ? inline_key.data() : long_key, key_size};
  }
  bool matches(uint64_t hash, const NameProbe& probe) const {
    return tag == static_cast<uint32_t>(hash >> 32) && port == probe.port && key() == probe.key;
  }
  void claim(uint64_t hash, const NameProbe& probe) {
    tag = static_cast<uint32_t>(hash >> 32);
    port = probe.port;
    key_size = static_cast<uint8_t>(probe.key.size());
    if (probe.key.size() <= kInlineKey) {
      std::copy(probe.key.begin(), probe.key.end(), inline_key.begin());
    } else {
      long_key = probe.key.data();
    }
  }
};
static_assert(sizeof(NameRecord) == 64);

// The ports some allow rule gives a name ("example.com") and the names below it
// ("*.example.com"), for the DNS stub's question "on any port?".
struct AllowedPorts {
  std::vector<uint16_t> exact;
  std::vector<uint16_t> below;
};

// An address masked to a prefix length; IPv4 in the low 32 bits of `low`.
struct NetworkKey {
  uint64_t high = 0;
  uint64_t low = 0;
  friend bool operator==(const NetworkKey& a, const NetworkKey& b) {
    return a.high == b.high && a.low == b.low;
  }
};

struct NetworkProbe {
  NetworkKey network;
  uint16_t port = 0;
};

uint64_t hash_of(const NetworkProbe& probe) {
  return with_port(mix(probe.network.high * 0x9e3779b97f4a7c15ULL ^ probe.network.low), probe.port);
}

// One (network of a prefix length, port) and its first allow and deny rule.
struct NetworkRecord {
  NetworkKey network;
  uint16_t port = 0;              // 0: empty slot (no rule has port 0)
  std::array<RuleId, 2> rules{};  // allow, deny

  bool empty() const { return port == 0; }
  bool matches(uint64_t /*hash*/, const NetworkProbe& probe) const {
    return port == probe.port && network == probe.network;
  }
  void claim(uint64_t /*hash*/, const NetworkProbe& probe) {
    network = probe.network;
    port = probe.port;
  }
};

// The networks of one prefix length; only lengths some rule uses exist.
struct PrefixLength {
  unsigned bits = 0;
  FlatTable<NetworkRecord> networks;
};

// The whole address as a key: IPv4 in the low 32 bits of `low`.
NetworkKey key_of(const IpAddress& address) {
  NetworkKey key;
  if (address.is_v4()) {
    for (size_t i = 0; i < 4; ++i) key.low = key.low << 8 | address.bytes[i];
    return key;
  }
  for (size_t i = 0; i < 8; ++i) key.high = key.high << 8 | address.bytes[i];
  for (size_t i = 8; i < 16; ++i) key.low = key.low << 8 | address.bytes[i];
  return key;
}

// A 64-bit word whose first n bits are set (n clamped to 0-64).
uint64_t leading_ones(int n) {
  if (n <= 0) return 0;
  return n >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - n);
}

NetworkKey masked(const NetworkKey& key, bool v4, unsigned bits) {
  int n = static_cast<int>(bits);
  if (v4) return {0, key.low & (leading_ones(n) >> 32)};
  return {key.high & leading_ones(n), key.low & leading_ones(n - 64)};
}

bool is_v4_mapped(const IpAddress& address) {
  static constexpr std::array<uint8_t, 12> kPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return !address.is_v4() && std::memcmp(address.bytes.data(), kPrefix.data(), 12) == 0;
}

IpAddress unmapped(const IpAddress& address) {
  if (!is_v4_mapped(address)) return address;
  IpAddress v4;
  v4.family = AF_INET;
  std::memcpy(v4.bytes.data(), address.bytes.data() + 12, 4);
  return v4;
}

struct Network {
  IpAddress address;
  unsigned bits = 0;
};

// An IP literal or CIDR rule; nullopt for a name. A v4-mapped network of /96 or longer is the
// IPv4 network it maps, so that it means the same as the address it will be compared with.
std::optional<Network> network_of(std::string_view host) {
  size_t slash = host.find('/');
  std::optional<IpAddress> address = IpAddress::parse(host.substr(0, slash));
  if (!address) return std::nullopt;
  unsigned bits = address->is_v4() ? 32 : 128;
  if (slash != std::string_view::npos) {
    std::string_view text = host.substr(slash + 1);
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), bits);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        bits > address->size() * 8) {
      return std::nullopt;
    }
  }
  if (is_v4_mapped(*address) && bits >= 96) return Network{unmapped(*address), bits - 96};
  return Network{*address, bits};
}

// Deny wins over allow, whatever their order or specificity; the first of each kind found is
// the one reported.
struct Decision {
  RuleId allow = 0;
  RuleId deny = 0;

  bool consider(RuleId allow_rule, RuleId deny_rule) {
    if (deny == 0) deny = deny_rule;
    if (allow == 0) allow = allow_rule;
    return deny != 0;  // nothing can change the outcome any more
  }
};

}  // namespace

struct HostMatcher::Tables {
  std::vector<policy::NetworkRule> allow;
  std::vector<policy::NetworkRule> deny;
  FlatTable<NameRecord> names;
  std::unordered_map<std::string_view, AllowedPorts> allowed_ports;
  std::bitset<kMaxNameLength + 1> suffix_lengths;  // of the x in some "*.x": others need no lookup
  std::vector<PrefixLength> v4;                    // longest prefix first
  std::vector<PrefixLength> v6;

  const policy::NetworkRule* rule(RuleId id) const {
    if (id == 0) return nullptr;
    return id <= allow.size() ? &allow[id - 1] : &deny[id - 1 - allow.size()];
  }

  RuleMatch result(const Decision& decision, const char* no_rule) const {
    if (decision.deny != 0) return {false, rule(decision.deny), kDenied};
    if (decision.allow != 0) return {true, rule(decision.allow), kAllowed};
    return {false, nullptr, no_rule};
  }

  // Where the keys a rule could match `name` with start: the name itself (0), then each
  // suffix a "*.suffix" rule could name, longest first. Returns how many; none for a name no
  // normalised host can be.
  size_t candidates(std::string_view name, std::array<uint8_t, kMaxCandidates>* starts,
                    std::array<uint64_t, kMaxCandidates>* hashes) const {
    if (name.empty() || name.size() > kMaxNameLength) return 0;
    size_t count = 0;
    (*starts)[count] = 0;
    (*hashes)[count++] = std::hash<std::string_view>{}(name);
    for (size_t dot = name.find('.'); dot != std::string_view::npos;
         dot = name.find('.', dot + 1)) {
      if (!suffix_lengths[name.size() - dot - 1]) continue;
      (*starts)[count] = static_cast<uint8_t>(dot + 1);
      (*hashes)[count++] = std::hash<std::string_view>{}(name.substr(dot + 1));
    }
    return count;
  }

  void add(const policy::NetworkRule& rule, RuleId id, bool is_allow,
           const std::optional<Network>& network) {
    if (network) {
      std::vector<PrefixLength>& lengths = network->address.is_v4() ? v4 : v6;
      auto length = std::find_if(lengths.begin(), lengths.end(), [&](const PrefixLength& entry) {
        return entry.bits == network->bits;
      });
      NetworkProbe probe{masked(key_of(network->address), network->address.is_v4(), network->bits),
                         rule.port};
      uint64_t hash = hash_of(probe);
      NetworkRecord& record = length->networks.slot(hash, probe);
      if (record.empty()) record.claim(hash, probe);
      RuleId& slot = record.rules[is_allow ? 0 : 1];
      if (slot == 0) slot = id;
      return;
    }
    std::string_view host = rule.host;
    bool wildcard = host.size() > 2 && host.substr(0, 2) == "*.";
    if (wildcard) host.remove_prefix(2);
    if (host.empty() || host.size() > kMaxNameLength) return;  // matches no normalised name
    if (wildcard) suffix_lengths[host.size()] = true;
    NameProbe probe{host, rule.port};
    uint64_t hash = with_port(std::hash<std::string_view>{}(host), rule.port);
    NameRecord& record = names.slot(hash, probe);
    if (record.empty()) record.claim(hash, probe);
    RuleId& slot = record.rules[wildcard ? (is_allow ? below_allow : below_deny)
                                         : (is_allow ? exact_allow : exact_deny)];
    if (slot == 0) slot = id;
    if (is_allow) {
      AllowedPorts& ports = allowed_ports[host];
      (wildcard ? ports.below : ports.exact).push_back(rule.port);
    }
  }
};

std::string RuleMatch::rule_text() const {
  if (rule == nullptr) return "";
  bool bracketed = rule->host.find(':') != std::string::npos &&
                   rule->host.find('/') == std::string::npos;  // policy syntax: [::1]:443
  std::string host = bracketed ? "[" + rule->host + "]" : rule->host;
  return host + ":" + std::to_string(rule->port);
}

HostMatcher::HostMatcher(std::vector<policy::NetworkRule> allow,
                         std::vector<policy::NetworkRule> deny) {
  auto tables = std::make_unique<Tables>();
  tables->allow = std::move(allow);
  tables->deny = std::move(deny);
  std::vector<const policy::NetworkRule*> rules;  // in RuleId order
  for (const policy::NetworkRule& rule : tables->allow) rules.push_back(&rule);
  for (const policy::NetworkRule& rule : tables->deny) rules.push_back(&rule);

  // Size every table first: one per prefix length that occurs, and the name table.
  std::vector<std::optional<Network>> networks;
  std::array<std::array<size_t, 129>, 2> per_length{};  // IPv4, IPv6
  size_t name_rules = 0;
  for (const policy::NetworkRule* rule : rules) {
    networks.push_back(network_of(rule->host));
    if (networks.back()) {
      ++per_length[networks.back()->address.is_v4() ? 0 : 1][networks.back()->bits];
    } else {
      ++name_rules;
    }
  }
  tables->names = FlatTable<NameRecord>(name_rules);
  for (size_t family = 0; family < 2; ++family) {
    std::vector<PrefixLength>& lengths = family == 0 ? tables->v4 : tables->v6;
    for (unsigned bits = 129; bits-- > 0;) {  // longest prefix first
      size_t count = per_length[family][bits];
      if (count > 0) lengths.push_back({bits, FlatTable<NetworkRecord>(count)});
    }
  }

  // Keys view the rules' own strings, which stay where they are from here on.
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i]->port == 0) continue;  // no connection has port 0
    tables->add(*rules[i], static_cast<RuleId>(i + 1), i < tables->allow.size(), networks[i]);
  }
  for (auto& [name, ports] : tables->allowed_ports) {
    for (std::vector<uint16_t>* list : {&ports.exact, &ports.below}) {
      std::sort(list->begin(), list->end());
      list->erase(std::unique(list->begin(), list->end()), list->end());
    }
  }
  tables_ = std::move(tables);
}

HostMatcher::~HostMatcher() = default;
HostMatcher::HostMatcher(HostMatcher&& other) noexcept = default;
HostMatcher& HostMatcher::operator=(HostMatcher&& other) noexcept = default;

RuleMatch HostMatcher::match_name(std::string_view name, uint16_t port) const {
  std::array<uint8_t, kMaxCandidates> starts;  // scratch: only what candidates() wrote is read
  std::array<uint64_t, kMaxCandidates> hashes;
  size_t count = tables_->candidates(name, &starts, &hashes);
  // The lookups are independent: start all their cache misses before waiting on the first.
  for (size_t i = 0; i < count; ++i) {
    hashes[i] = with_port(hashes[i], port);
    tables_->names.prefetch(hashes[i]);
  }
  Decision decision;
  for (size_t i = 0; i < count; ++i) {
    const NameRecord* record =
        tables_->names.find(hashes[i], NameProbe{name.substr(starts[i]), port});
    if (record == nullptr) continue;
    bool exact = i == 0;
    if (decision.consider(record->rules[exact ? exact_allow : below_allow],
                          record->rules[exact ? exact_deny : below_deny])) {
      break;
    }
  }
  return tables_->result(decision, kNoNameRule);
}

RuleMatch HostMatcher::match_address(const IpAddress& address, uint16_t port) const {
  IpAddress effective = unmapped(address);
  bool v4 = effective.is_v4();
  const std::vector<PrefixLength>& lengths = v4 ? tables_->v4 : tables_->v6;
  NetworkKey key = key_of(effective);
  std::array<uint64_t, 129> hashes;  // scratch: one per prefix length that occurs
  for (size_t i = 0; i < lengths.size(); ++i) {
    hashes[i] = hash_of(NetworkProbe{masked(key, v4, lengths[i].bits), port});
    lengths[i].networks.prefetch(hashes[i]);
  }
  Decision decision;
  for (size_t i = 0; i < lengths.size(); ++i) {
    NetworkProbe probe{masked(key, v4, lengths[i].bits), port};
    const NetworkRecord* record = lengths[i].networks.find(hashes[i], probe);
    if (record != nullptr && decision.consider(record->rules[0], record->rules[1])) break;
  }
  return tables_->result(decision, kNoAddressRule);
}

bool HostMatcher::name_may_be_allowed(std::string_view name) const {
  std::array<uint8_t, kMaxCandidates> starts;  // scratch: only what candidates() wrote is read
  std::array<uint64_t, kMaxCandidates> hashes;
  size_t count = tables_->candidates(name, &starts, &hashes);
  for (size_t i = 0; i < count; ++i) {
    auto it = tables_->allowed_ports.find(name.substr(starts[i]));
    if (it == tables_->allowed_ports.end()) continue;
    for (uint16_t port : i == 0 ? it->second.exact : it->second.below) {
      if (match_name(name, port).allowed) return true;
    }
  }
  return false;
}

size_t HostMatcher::rule_count() const {
  return tables_->allow.size() + tables_->deny.size();
}

}  // namespace airlock::egress
