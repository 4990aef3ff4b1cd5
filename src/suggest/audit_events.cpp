#include "suggest/audit_events.h"

#include <cerrno>
#include <fstream>

#include "common/errno_text.h"

namespace airlock::suggest {

Result<std::vector<nlohmann::json>> read_audit_events(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Error{path + ": cannot read the recording: " + errno_text(errno)};
  std::vector<nlohmann::json> events;
  std::string line;
  for (size_t number = 1; std::getline(file, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded()) {
      return Error{path + ":" + std::to_string(number) +
                   ": not a JSON audit event (airlock --audit writes one JSON object per line)"};
    }
    if (!event.is_object() || !event.contains("event") || !event["event"].is_string()) {
      return Error{path + ":" + std::to_string(number) +
                   ": not an audit event (a JSON object with an \"event\" name)"};
    }
    events.push_back(std::move(event));
  }
  if (file.bad()) return Error{path + ": cannot read the recording: " + errno_text(errno)};
  return events;
}

}  // namespace airlock::suggest
