#include "egress/host_name.h"

#include <idn2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <utility>

#include "common/shared_library.h"
#include "policy/network_rule.h"

namespace airlock::egress {
namespace {

// A real host is well under this in any spelling (253 characters of at most 4 bytes of UTF-8);
// longer input is padding, such as the soft hyphens UTS#46 ignores, and not worth converting.
constexpr size_t kMaxInputBytes = 1024;
constexpr size_t kMaxNameLength = 253;  // RFC 1035 2.3.4, without the root dot
constexpr size_t kMaxLabelLength = 63;

// The raw input, quoted for a one-line message that is also valid UTF-8 in the audit log:
// control and non-ASCII bytes become \xNN, long input is cut.
std::string shown(std::string_view raw) {
  constexpr size_t kShownBytes = 80;
  std::string text;
  for (unsigned char c : raw.substr(0, kShownBytes)) {
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      constexpr std::string_view kHex = "0123456789abcdef";
      text += "\\x";
      text += kHex[c >> 4];
      text += kHex[c & 0xf];
    } else {
      text += static_cast<char>(c);
    }
  }
  if (raw.size() > kShownBytes) text += "...";
  return text;
}

Error refused(std::string_view raw, std::string_view why) {
  return Error{"host '" + shown(raw) + "' " + std::string(why)};
}

// ASCII bytes that make a host mean something else to some other parser, the most telling
// first. Checked on the raw input and again after UTS#46, which maps fullwidth forms onto them
// (U+FF20 -> '@'). Inside "[v6]" the ':' belong to the address.
const char* forbidden_bytes(std::string_view text, bool ipv6_literal) {
  if (text.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (std::any_of(text.begin(), text.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    return "contains a control character";
  }
  if (text.find(' ') != std::string_view::npos) return "contains whitespace";
  if (text.find('%') != std::string_view::npos) {
    return "contains '%' (percent-encoding and IPv6 zone ids are not accepted)";
  }
  if (text.find('@') != std::string_view::npos) {
    return "contains '@' (userinfo is not part of a host)";
  }
  if (ipv6_literal) return nullptr;
  if (text.find(':') != std::string_view::npos) {
    return "contains ':' (send the host without its port; an IPv6 address needs brackets)";
  }
  if (text.find_first_of("[]") != std::string_view::npos) {
    return "has '[' or ']' other than around a whole IPv6 address";
  }
  return nullptr;
}

// "[v6]": the inside must be an IPv6 address to inet_pton (no IPv4, no zone).
Result<NormalisedHost> bracketed(std::string_view raw) {
  if (raw.size() < 2 || raw.back() != ']') {
    return refused(raw, "has '[' but does not end with ']'");
  }
  std::string_view inside = raw.substr(1, raw.size() - 2);
  if (inside.find_first_of("[]") != std::string_view::npos) {
    return refused(raw, "has '[' or ']' other than around a whole IPv6 address");
  }
  std::optional<IpAddress> address = IpAddress::parse(inside);
  if (!address || address->is_v4()) return refused(raw, "is not an IPv6 address inside brackets");
  return NormalisedHost{address->to_string(), address};
}

// Where the next label separator starts at or after `from`, and its length in bytes: '.' and the
// dots UTS#46 maps onto it (U+3002 ideographic, U+FF0E fullwidth, U+FF61 halfwidth ideographic).
size_t find_separator(std::string_view text, size_t from, size_t* length) {
  static constexpr std::array<std::string_view, 3> kUnicodeDots = {"\xe3\x80\x82", "\xef\xbc\x8e",
                                                                   "\xef\xbd\xa1"};
  for (size_t i = from; i < text.size(); ++i) {
    if (text[i] == '.') {
      *length = 1;
      return i;
    }
    if (static_cast<unsigned char>(text[i]) < 0x80) continue;
    for (std::string_view dot : kUnicodeDots) {
      if (text.substr(i, dot.size()) == dot) {
        *length = dot.size();
        return i;
      }
    }
  }
  *length = 0;
  return std::string_view::npos;
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x80; });
}

// libidn2 is opened on the first name that needs it (see common/shared_library.h): most names
// are plain ASCII, and most runs have no host names at all.
struct Idn2Functions {
  decltype(&idn2_to_ascii_8z) to_ascii_8z;
  decltype(&idn2_free) free;
  decltype(&idn2_strerror) strerror;
};

Result<Idn2Functions> open_idn2() {
  Result<SharedLibrary> library = SharedLibrary::open("libidn2.so.0", "libidn2-0");
  if (!library) return library.error();
  Idn2Functions idn2{};
  const Status bound[] = {
      library->bind("idn2_to_ascii_8z", &idn2.to_ascii_8z),
      library->bind("idn2_free", &idn2.free),
      library->bind("idn2_strerror", &idn2.strerror),
  };
  for (const Status& step : bound)
    if (!step) return step.error();
  return idn2;
}

const Result<Idn2Functions>& idn2() {
  static const Result<Idn2Functions> functions = open_idn2();
  return functions;
}

bool starts_with_ace_prefix(std::string_view label) {
  return label.size() >= 4 && (label[0] | 0x20) == 'x' && (label[1] | 0x20) == 'n' &&
         label[2] == '-' && label[3] == '-';
}

// One label to ASCII. UTS#46 leaves an ASCII label that is not "xn--" as it is but for case
// (the WHATWG URL standard's fast path says the same), so only the others go to libidn2. That also
// keeps real names like "r3---sn-abc.googlevideo.com", which libidn2's CheckHyphens refuses.
// Nontransitional only, with no fallback to transitional: that would turn "faß.de" into another
// registered domain (fass.de) and delete joiners ("ex\u200dample" -> "example"), so one input
// would name a host the client did not mean; what IDNA2008 disallows (emoji) is refused.
Status label_to_ascii(std::string_view raw, std::string_view label, std::string* out) {
  if (is_ascii(label) && !starts_with_ace_prefix(label)) {
    for (char c : label)
      out->push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return ok_status();
  }
  if (!idn2()) return idn2().error();
  const Idn2Functions& library = *idn2();
  std::string terminated(label);
  char* converted = nullptr;
  int rc =
      library.to_ascii_8z(terminated.c_str(), &converted, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  std::unique_ptr<char, decltype(library.free)> owned(converted, library.free);
  if (rc != IDN2_OK) {
    return refused(raw, "is not a valid international domain name (UTS#46): " +
                            std::string(library.strerror(rc)));
  }
  out->append(owned.get());
  return ok_status();
}

Status to_ascii(std::string_view raw, std::string* out) {
  size_t start = 0;
  for (;;) {
    size_t separator_length = 0;
    size_t separator = find_separator(raw, start, &separator_length);
    std::string_view label = raw.substr(start, separator - start);
    if (!label.empty()) {
      Status converted = label_to_ascii(raw, label, out);
      if (!converted) return converted;
    }
    if (separator == std::string_view::npos) return ok_status();
    out->push_back('.');
    start = separator + separator_length;
  }
}

// Letters, digits and '-' (RFC 952/1123), which also refuses '_' and whatever UTS#46 without
// STD3 rules let through ('/', '*', ...).
std::optional<std::string> label_problem(std::string_view label) {
  if (label.empty()) return "has an empty label (\"a..b\" or a leading '.')";
  if (label.size() > kMaxLabelLength) return "has a label longer than 63 characters";
  for (char c : label) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return "contains '" + std::string(1, c) + "'; a host name is only a-z, 0-9, '-' and '.'";
    }
  }
  if (label.front() == '-' || label.back() == '-') return "has a label starting or ending with '-'";
  return std::nullopt;
}

}  // namespace

Result<NormalisedHost> normalise_host(std::string_view raw) {
  if (raw.empty()) return refused(raw, "is empty");
  if (raw.size() > kMaxInputBytes) return refused(raw, "is longer than 1024 bytes");
  if (const char* problem = forbidden_bytes(raw, /*ipv6_literal=*/raw.front() == '[')) {
    return refused(raw, problem);
  }
  if (raw.front() == '[') return bracketed(raw);

  std::string name;
  Status converted = to_ascii(raw, &name);
  if (!converted) return converted.error();
  if (const char* problem = forbidden_bytes(name, /*ipv6_literal=*/false)) {
    return refused(raw, problem);
  }
  if (!name.empty() && name.back() == '.') name.pop_back();  // one trailing dot is the root
  if (name.size() > kMaxNameLength) return refused(raw, "is longer than 253 characters");
  std::string_view last_label;
  for (size_t start = 0;;) {
    size_t dot = name.find('.', start);
    std::string_view label = std::string_view(name).substr(start, dot - start);
    if (std::optional<std::string> problem = label_problem(label)) return refused(raw, *problem);
    if (dot == std::string::npos) {
      last_label = label;
      break;
    }
    start = dot + 1;
  }
  if (policy::looks_like_inet_aton_number(last_label)) {
    // No top-level domain is numeric, but glibc's getaddrinfo reads 127.1, 0x7f.1, 0177.0.0.1
    // and 2130706433 as 127.0.0.1 (inet_aton): only what inet_pton reads is an address.
    std::optional<IpAddress> address = IpAddress::parse(name);
    if (!address || !address->is_v4()) {
      return refused(raw, "is not a dotted-quad IPv4 address; write all four decimal parts");
    }
    return NormalisedHost{address->to_string(), address};
  }
  return NormalisedHost{std::move(name), std::nullopt};
}

}  // namespace airlock::egress
