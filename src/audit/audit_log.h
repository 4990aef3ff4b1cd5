// The audit trail: one JSON object per line, each carrying the time and the sandbox identity
// (policy name + unique id), appended to a file the agent cannot see.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::audit {

class AuditLog {
 public:
  // An empty path gives a log that records nothing (no --audit and no audit.path).
  static Result<AuditLog> open(const std::string& path, std::string sandbox_name,
                               std::string sandbox_id);

  // Adds "time", "event" and "sandbox" to `fields` and appends it as one line.
  void record(const std::string& event, const nlohmann::json& fields) const;
  bool enabled() const { return fd_.valid(); }

 private:
  AuditLog(UniqueFd fd, std::string name, std::string id)
      : fd_(std::move(fd)), name_(std::move(name)), id_(std::move(id)) {}
  UniqueFd fd_;
  std::string name_;
  std::string id_;
};

std::string utc_timestamp();  // 2026-11-22T13:45:01.123Z

}  // namespace airlock::audit
