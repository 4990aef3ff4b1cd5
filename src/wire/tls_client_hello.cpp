#include "wire/tls_client_hello.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace airlock::egress {
namespace {

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHelloType = 1;
constexpr size_t kRecordHeaderSize = 5;
constexpr size_t kHandshakeHeaderSize = 4;
constexpr size_t kMaxRecordPayload = 16384;  // RFC 8446 §5.1: TLSPlaintext.length <= 2^14
constexpr size_t kMaxHelloBody = 65536;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint8_t kHostNameType = 0;  // RFC 6066 §3: the only NameType defined
constexpr size_t kMaxHostName = 255;  // a DNS name never has more (RFC 1035 §2.3.4)

ClientHelloParse invalid(std::string problem) {
  ClientHelloParse parse;
  parse.status = ParseStatus::invalid;
  parse.problem = std::move(problem);
  return parse;
}

// Big-endian reads inside one length-delimited part; every read says whether it fitted.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  bool empty() const { return bytes_.empty(); }

  bool read(size_t width, size_t* value) {
    if (bytes_.size() < width) return false;
    size_t result = 0;
    for (size_t i = 0; i < width; ++i) result = (result << 8) | bytes_[i];
    bytes_ = bytes_.subspan(width);
    *value = result;
    return true;
  }

  bool skip(size_t count) {
    if (bytes_.size() < count) return false;
    bytes_ = bytes_.subspan(count);
    return true;
  }

  // A vector<...> with a `width`-byte length prefix (RFC 8446 §3.4).
  bool prefixed(size_t width, std::span<const uint8_t>* part) {
    size_t length = 0;
    if (!read(width, &length) || bytes_.size() < length) return false;
    *part = bytes_.first(length);
    bytes_ = bytes_.subspan(length);
    return true;
  }

 private:
  std::span<const uint8_t> bytes_;
};

// RFC 6066 §3: a ServerNameList holding at most one host_name, which is printable ASCII here
// (no NUL, space or control bytes that could end or split the name in another parser).
ClientHelloParse read_server_name(std::span<const uint8_t> extension) {
  Cursor outer(extension);
  std::span<const uint8_t> list;
  if (!outer.prefixed(2, &list)) return invalid("server_name list overruns its extension");
  if (!outer.empty()) return invalid("bytes after the server_name list in its extension");
  if (list.empty()) return invalid("empty server_name list");

  ClientHelloParse parse;
  parse.status = ParseStatus::complete;
  Cursor entries(list);
  while (!entries.empty()) {
    size_t name_type = 0;
    std::span<const uint8_t> name;
    if (!entries.read(1, &name_type) || !entries.prefixed(2, &name)) {
      return invalid("server_name entry overruns its list");
    }
    if (name_type != kHostNameType) {
      return invalid(fmt::format("server_name entry of unknown type {}", name_type));
    }
    if (parse.server_name) return invalid("more than one host_name in server_name");
    if (name.empty()) return invalid("empty host_name in server_name");
    if (name.size() > kMaxHostName) {
      return invalid(fmt::format("host_name of {} bytes in server_name (at most {})", name.size(),
                                 kMaxHostName));
    }
    for (uint8_t byte : name) {
      if (byte < 0x21 || byte > 0x7e) {
        return invalid(fmt::format("host_name in server_name contains byte 0x{:02x}", byte));
      }
    }
    parse.server_name.emplace(name.begin(), name.end());
  }
  return parse;
}

// RFC 8446 §4.1.2 (and the TLS 1.2 form of RFC 5246 §7.4.1.2, where extensions may be absent).
ClientHelloParse read_client_hello_body(std::span<const uint8_t> body) {
  Cursor hello(body);
  size_t legacy_version = 0;
  if (!hello.read(2, &legacy_version)) return invalid("ClientHello truncated in legacy_version");
  if ((legacy_version >> 8) != 3) {
    return invalid(fmt::format("ClientHello legacy_version 0x{:04x} is not TLS", legacy_version));
  }
  if (!hello.skip(32)) return invalid("ClientHello truncated in random");
  std::span<const uint8_t> part;
  if (!hello.prefixed(1, &part)) return invalid("legacy_session_id overruns the ClientHello");
  if (part.size() > 32) return invalid("legacy_session_id longer than 32 bytes");
  if (!hello.prefixed(2, &part)) return invalid("cipher_suites overrun the ClientHello");
  if (part.empty() || part.size() % 2 != 0) return invalid("cipher_suites of odd or zero length");
  if (!hello.prefixed(1, &part)) {
    return invalid("legacy_compression_methods overrun the ClientHello");
  }
  if (part.empty()) return invalid("empty legacy_compression_methods");

  ClientHelloParse parse;
  parse.status = ParseStatus::complete;
  if (hello.empty()) return parse;  // no extensions at all (TLS 1.2 and earlier): no SNI

  std::span<const uint8_t> extensions;
  if (!hello.prefixed(2, &extensions)) return invalid("extensions overrun the ClientHello");
  if (!hello.empty()) return invalid("bytes after the extensions of the ClientHello");

  // RFC 8446 §4.2: no extension type may appear twice (a server picks one, we might see another).
  std::vector<uint16_t> seen;
  Cursor list(extensions);
  while (!list.empty()) {
    size_t type = 0;
    std::span<const uint8_t> data;
    if (!list.read(2, &type) || !list.prefixed(2, &data)) {
      return invalid("extension overruns the extensions of the ClientHello");
    }
    if (type == kServerNameExtension) {
      if (parse.server_name) return invalid("more than one server_name extension");
      ClientHelloParse name = read_server_name(data);
      if (name.status != ParseStatus::complete) return name;
      parse.server_name = std::move(name.server_name);
    }
    seen.push_back(static_cast<uint16_t>(type));
  }
  std::sort(seen.begin(), seen.end());
  auto repeated = std::adjacent_find(seen.begin(), seen.end());
  if (repeated != seen.end()) {
    return invalid(fmt::format("extension {} appears twice in the ClientHello", *repeated));
  }
  return parse;
}

}  // namespace

ClientHelloParse parse_client_hello(std::span<const uint8_t> data) {
  // The handshake message reassembled from its records; at most 4 + 65536 bytes, because a
  // record that would carry bytes past the end of the announced hello is refused first.
  std::vector<uint8_t> handshake;
  std::optional<size_t> hello_size;  // header + body, once the 4-byte header is in
  size_t offset = 0;
  while (true) {
    const std::span<const uint8_t> rest = data.subspan(offset);
    if (rest.empty()) return {};
    if (rest[0] != kHandshakeRecord) {
      if (offset == 0) return invalid("not a TLS ClientHello");
      return invalid(
          fmt::format("TLS record of type {} before the ClientHello was complete", rest[0]));
    }
    if (rest.size() >= 2 && rest[1] != 3) {
      if (offset == 0) return invalid("not a TLS ClientHello");
      return invalid(fmt::format("TLS record version 0x{:02x}.. is not TLS", rest[1]));
    }
    if (rest.size() < kRecordHeaderSize) return {};
    const size_t length = (size_t{rest[3]} << 8) | rest[4];
    // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent.
    if (length == 0) return invalid("empty TLS handshake record");
    if (length > kMaxRecordPayload) {
      return invalid(fmt::format("TLS record of {} bytes (at most {})", length, kMaxRecordPayload));
    }
    if (hello_size && handshake.size() + length > *hello_size) {
      return invalid("TLS record carries bytes after the ClientHello");
    }
    const std::span<const uint8_t> fragment =
        rest.subspan(kRecordHeaderSize, std::min(length, rest.size() - kRecordHeaderSize));
    const size_t before = handshake.size();
    handshake.insert(handshake.end(), fragment.begin(), fragment.end());

    if (!handshake.empty() && handshake[0] != kClientHelloType) {
      return invalid("not a TLS ClientHello");
    }
    if (!hello_size && handshake.size() >= kHandshakeHeaderSize) {
      const size_t body_size =
          (size_t{handshake[1]} << 16) | (size_t{handshake[2]} << 8) | handshake[3];
      if (body_size > kMaxHelloBody) {
        return invalid(
            fmt::format("ClientHello of {} bytes (at most {})", body_size, kMaxHelloBody));
      }
      hello_size = kHandshakeHeaderSize + body_size;
      if (before + length > *hello_size) {
        return invalid("TLS record carries bytes after the ClientHello");
      }
    }
    if (fragment.size() < length) return {};  // this record is not all here yet
    if (hello_size && handshake.size() == *hello_size) {
      return read_client_hello_body(std::span<const uint8_t>(handshake).subspan(4));
    }
    offset += kRecordHeaderSize + length;
  }
}

}  // namespace airlock::egress
