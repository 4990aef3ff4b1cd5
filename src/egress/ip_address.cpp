#include "egress/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace airlock::egress {

IpAddress IpAddress::v4(const in_addr& address) {
  IpAddress result;
  result.family = AF_INET;
  std::memcpy(result.bytes.data(), &address.s_addr, 4);
  return result;
}

IpAddress IpAddress::v6(const in6_addr& address) {
  IpAddress result;
  result.family = AF_INET6;
  std::memcpy(result.bytes.data(), address.s6_addr, 16);
  return result;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string copy(text);  // inet_pton needs a terminated string
  in_addr v4_address{};
  if (inet_pton(AF_INET, copy.c_str(), &v4_address) == 1) return v4(v4_address);
  in6_addr v6_address{};
  if (inet_pton(AF_INET6, copy.c_str(), &v6_address) == 1) return v6(v6_address);
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* address, socklen_t length) {
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    sockaddr_in v4_address{};
    std::memcpy(&v4_address, address, sizeof v4_address);
    return v4(v4_address.sin_addr);
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    sockaddr_in6 v6_address{};
    std::memcpy(&v6_address, address, sizeof v6_address);
    return v6(v6_address.sin6_addr);
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), text, sizeof text);
  return text;
}

sockaddr_storage IpAddress::to_sockaddr(uint16_t port, socklen_t* length) const {
  sockaddr_storage storage{};
  if (is_v4()) {
    sockaddr_in v4_address{};
    v4_address.sin_family = AF_INET;
    v4_address.sin_port = htons(port);
    std::memcpy(&v4_address.sin_addr.s_addr, bytes.data(), 4);
    std::memcpy(&storage, &v4_address, sizeof v4_address);
    *length = sizeof v4_address;
  } else {
    sockaddr_in6 v6_address{};
    v6_address.sin6_family = AF_INET6;
    v6_address.sin6_port = htons(port);
    std::memcpy(v6_address.sin6_addr.s6_addr, bytes.data(), 16);
    std::memcpy(&storage, &v6_address, sizeof v6_address);
    *length = sizeof v6_address;
  }
  return storage;
}

uint16_t port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    sockaddr_in v4_address{};
    std::memcpy(&v4_address, &address, sizeof v4_address);
    return ntohs(v4_address.sin_port);
  }
  if (address.ss_family == AF_INET6) {
    sockaddr_in6 v6_address{};
    std::memcpy(&v6_address, &address, sizeof v6_address);
    return ntohs(v6_address.sin6_port);
  }
  return 0;
}

}  // namespace airlock::egress
