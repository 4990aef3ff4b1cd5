#include "egress/dns_map.h"

#include <algorithm>

namespace airlock::egress {

void DnsMap::remember(const IpAddress& address, const std::string& name) {
  const std::string id = key(address);
  auto [entry, inserted] = names_.try_emplace(id);
  if (inserted) {
    order_.push_back(id);
    // Erasing another key leaves `entry` valid (unordered_map), and the oldest is never `id`.
    if (order_.size() > max_addresses_) {
      names_.erase(order_.front());
      order_.pop_front();
    }
  }
  std::vector<std::string>& names = entry->second;
  names.erase(std::remove(names.begin(), names.end(), name), names.end());
  names.insert(names.begin(), name);
  if (names.size() > kNamesPerAddress) names.pop_back();
}

std::vector<std::string> DnsMap::names_for(const IpAddress& address) const {
  auto found = names_.find(key(address));
  return found == names_.end() ? std::vector<std::string>{} : found->second;
}

}  // namespace airlock::egress
