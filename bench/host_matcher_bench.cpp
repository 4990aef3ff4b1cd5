// The egress decision per connection and per DNS query: match_name against 100 to 100,000
// rules (target: at most 200 ns at 100,000), match_address against 10,000 CIDRs, and
// normalise_host on ASCII and international names. Time per iteration is time per call.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "egress/host_matcher.h"
#include "egress/host_name.h"

namespace airlock::egress {
namespace {

constexpr size_t kQueries = 1 << 14;  // cycled through, so lookups are not all cache-hot

// Names one after the other, as a proxy's buffers would hold the one it just normalised: what
// is measured is the matcher's memory traffic, not that of heap-scattered benchmark input.
class NameQueries {
 public:
  void add(std::string_view name, uint16_t port) {
    queries_.push_back({text_.size(), name.size(), port});
    text_ += name;
  }
  size_t size() const { return queries_.size(); }
  std::string_view name(size_t i) const {
    return std::string_view(text_).substr(queries_[i].offset, queries_[i].size);
  }
  uint16_t port(size_t i) const { return queries_[i].port; }

 private:
  struct Query {
    size_t offset = 0;
    size_t size = 0;
    uint16_t port = 0;
  };
  std::string text_;
  std::vector<Query> queries_;
};

std::string random_label(std::mt19937_64& random) {
  std::uniform_int_distribution<int> length(3, 10);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::string label(static_cast<size_t>(length(random)), 'a');
  for (char& c : label) c = static_cast<char>(letter(random));
  return label;
}

// 2 to 4 labels under a common top-level domain.
std::string random_name(std::mt19937_64& random, int min_labels = 2) {
  static const std::vector<std::string> kTopLevel = {"com", "net", "org", "io", "dev"};
  std::uniform_int_distribution<int> labels(min_labels, 4);
  std::string name = kTopLevel[random() % kTopLevel.size()];
  for (int i = labels(random) - 1; i > 0; --i) name = random_label(random) + "." + name;
  return name;
}

uint16_t random_port(std::mt19937_64& random) {
  return static_cast<uint16_t>(std::uniform_int_distribution<int>(1, 65535)(random));
}

struct NameWorkload {
  HostMatcher matcher;
  NameQueries hits;
  NameQueries misses;
};

// Half exact names, half "*.suffix"; every hit query is allowed by one rule, every miss by none.
NameWorkload make_name_workload(size_t rule_count) {
  std::mt19937_64 random(rule_count);
  std::vector<policy::NetworkRule> allow;
  std::vector<std::pair<std::string, uint16_t>> hits;
  for (size_t i = 0; i < rule_count; ++i) {
    std::string name = random_name(random);
    uint16_t port = random_port(random);
    if (i % 2 == 0) {
      allow.push_back({name, port, {}});
      hits.emplace_back(name, port);
    } else {
      allow.push_back({"*." + name, port, {}});
      hits.emplace_back(random_label(random) + "." + name, port);
    }
  }
  std::shuffle(hits.begin(), hits.end(), random);
  hits.resize(std::min(hits.size(), kQueries));
  NameWorkload workload{HostMatcher(std::move(allow), {}), {}, {}};
  for (const auto& [name, port] : hits) workload.hits.add(name, port);
  while (workload.misses.size() < kQueries) {
    std::string name = random_name(random);
    uint16_t port = random_port(random);
    if (!workload.matcher.match_name(name, port).allowed) workload.misses.add(name, port);
  }
  return workload;
}

const NameWorkload& name_workload(size_t rule_count) {
  static std::map<size_t, NameWorkload> built;
  auto it = built.find(rule_count);
  if (it == built.end()) it = built.emplace(rule_count, make_name_workload(rule_count)).first;
  return it->second;
}

// Args: rule count, 1 for queries that are allowed / 0 for queries no rule matches.
void BM_MatchName(benchmark::State& state) {
  const NameWorkload& workload = name_workload(static_cast<size_t>(state.range(0)));
  bool hit = state.range(1) != 0;
  const NameQueries& queries = hit ? workload.hits : workload.misses;
  size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    size_t at = i++ % queries.size();
    RuleMatch match = workload.matcher.match_name(queries.name(at), queries.port(at));
    benchmark::DoNotOptimize(match);
    if (match.allowed != hit) state.SkipWithError("the workload is wrong");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MatchName)->ArgsProduct({{100, 10'000, 100'000}, {1, 0}})->ArgNames({"rules", "hit"});

void BM_NameMayBeAllowed(benchmark::State& state) {
  const NameWorkload& workload = name_workload(100'000);
  bool hit = state.range(0) != 0;
  const NameQueries& queries = hit ? workload.hits : workload.misses;
  size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    benchmark::DoNotOptimize(
        workload.matcher.name_may_be_allowed(queries.name(i++ % queries.size())));
  }
}
BENCHMARK(BM_NameMayBeAllowed)->Arg(1)->Arg(0)->ArgName("hit");

struct AddressWorkload {
  HostMatcher matcher;
  std::vector<std::pair<IpAddress, uint16_t>> queries;
};

IpAddress random_address(std::mt19937_64& random, bool v6) {
  IpAddress address;
  address.family = v6 ? AF_INET6 : AF_INET;
  for (size_t i = 0; i < address.size(); ++i) address.bytes[i] = static_cast<uint8_t>(random());
  if (v6) address.bytes[0] = 0x20;  // global unicast, never v4-mapped
  return address;
}

// 10,000 CIDRs of random prefix lengths on a few ports; half the queries fall inside one of them.
AddressWorkload make_address_workload(bool v6) {
  constexpr size_t kRules = 10'000;
  const std::vector<uint16_t> kPorts = {22, 443, 5432, 6379};
  std::mt19937_64 random(v6 ? 6 : 4);
  std::uniform_int_distribution<int> bits(v6 ? 16 : 8, v6 ? 128 : 32);
  std::vector<policy::NetworkRule> allow;
  std::vector<std::pair<IpAddress, uint16_t>> queries;
  for (size_t i = 0; i < kRules; ++i) {
    IpAddress address = random_address(random, v6);
    uint16_t port = kPorts[random() % kPorts.size()];
    allow.push_back({address.to_string() + "/" + std::to_string(bits(random)), port, {}});
    queries.emplace_back(address, port);  // inside its own network
  }
  while (queries.size() < 2 * kRules) {
    queries.emplace_back(random_address(random, v6), kPorts[random() % kPorts.size()]);
  }
  std::shuffle(queries.begin(), queries.end(), random);
  return {HostMatcher(std::move(allow), {}), std::move(queries)};
}

// Arg: 0 for IPv4, 1 for IPv6.
void BM_MatchAddress(benchmark::State& state) {
  static const AddressWorkload v4 = make_address_workload(false);
  static const AddressWorkload v6 = make_address_workload(true);
  const AddressWorkload& workload = state.range(0) != 0 ? v6 : v4;
  size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    const auto& [address, port] = workload.queries[i++ % workload.queries.size()];
    benchmark::DoNotOptimize(workload.matcher.match_address(address, port));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MatchAddress)->Arg(0)->Arg(1)->ArgName("v6");

// Arg: 0 ASCII names (the common case, no libidn2 call), 1 international names.
void BM_NormaliseHost(benchmark::State& state) {
  static const std::vector<std::string> kAscii = {"api.anthropic.com", "API.Example.COM.",
                                                  "r3---sn-4g5e6nz7.googlevideo.com",
                                                  "objects.githubusercontent.com", "10.1.2.3"};
  static const std::vector<std::string> kInternational = {
      "b\u00fccher.example", "\uff41\uff50\uff49\uff0eexample.com", "api\u3002example\u3002com",
      "xn--bcher-kva.example", "\u0430pple.com"};
  const std::vector<std::string>& inputs = state.range(0) != 0 ? kInternational : kAscii;
  size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    Result<NormalisedHost> host = normalise_host(inputs[i++ % inputs.size()]);
    if (!host.ok()) state.SkipWithError(host.error().message.c_str());
    benchmark::DoNotOptimize(host);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NormaliseHost)->Arg(0)->Arg(1)->ArgName("idn");

}  // namespace
}  // namespace airlock::egress

BENCHMARK_MAIN();
