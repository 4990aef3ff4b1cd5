// The audit trail: one JSON object per line, each carrying the time and the sandbox identity
// (policy name + unique id), appended to a file the agent cannot see. Lines are hash-chained
// (`seq`, `prev`: see audit_chain.h and docs/audit.md) across every writer of the file.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/event_tap.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace airlock::audit {

class AuditLog {
 public:
  // An empty path gives a log that records nothing (no --audit and no audit.path).
  static Result<AuditLog> open(const std::string& path, std::string sandbox_name,
                               std::string sandbox_id);
  AuditLog(AuditLog&&) noexcept;
  AuditLog& operator=(AuditLog&&) noexcept;
  ~AuditLog();

  // Adds "time", "event" and "sandbox" to `fields`, then "seq" and "prev" (which no field may
  // replace), and appends it as one line with one write(2). Safe from any thread, and from
  // other processes appending to the same file.
  void record(const std::string& event, const nlohmann::json& fields) const;
  // Whether events are kept anywhere: the file, or the live stream of `airlock logs`.
  bool enabled() const { return fd_.valid() || tap_ != nullptr; }
  // Every event is also published there (before the file's chain fields are added).
  void attach_tap(std::shared_ptr<EventTap> tap) { tap_ = std::move(tap); }

 private:
  struct ChainCache;  // the mutex and where this process's last line left the chain
  AuditLog(UniqueFd fd, std::string name, std::string id);
  UniqueFd fd_;
  std::string name_;
  std::string id_;
  std::unique_ptr<ChainCache> chain_;
  std::shared_ptr<EventTap> tap_;
};

std::string utc_timestamp();  // 2026-11-22T13:45:01.123Z

}  // namespace airlock::audit
