#include "egress/synthetic_addresses.h"

namespace airlock::egress {
namespace {

constexpr uint32_t kBase = (198u << 24) | (18u << 16);  // 198.18.0.0
constexpr uint32_t kSize = 1u << 17;                    // a /15

}  // namespace

std::optional<IpAddress> SyntheticAddresses::address_for(const std::string& name) {
  if (auto found = by_name_.find(name); found != by_name_.end()) return found->second;
  // .0 and .255 are skipped: some clients treat them as network or broadcast addresses.
  uint32_t offset = next_;
  while (offset < kSize && ((offset & 0xff) == 0 || (offset & 0xff) == 0xff)) ++offset;
  if (offset >= kSize) return std::nullopt;
  next_ = offset + 1;
  const uint32_t value = kBase + offset;
  IpAddress address;
  address.family = AF_INET;
  address.bytes[0] = static_cast<uint8_t>(value >> 24);
  address.bytes[1] = static_cast<uint8_t>(value >> 16);
  address.bytes[2] = static_cast<uint8_t>(value >> 8);
  address.bytes[3] = static_cast<uint8_t>(value);
  by_name_.emplace(name, address);
  return address;
}

bool SyntheticAddresses::contains(const IpAddress& address) {
  return address.is_v4() && address.bytes[0] == 198 && (address.bytes[1] & 0xfe) == 18;
}

}  // namespace airlock::egress
