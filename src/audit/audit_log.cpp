#include "audit/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "common/errno_text.h"

namespace airlock::audit {

std::string utc_timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t seconds = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

Result<AuditLog> AuditLog::open(const std::string& path, std::string sandbox_name,
                                std::string sandbox_id) {
  if (path.empty()) return AuditLog(UniqueFd(), std::move(sandbox_name), std::move(sandbox_id));
  // O_APPEND: concurrent sandboxes may share one file; each line is one write(2).
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Error{"cannot open the audit log " + path + ": " + errno_text(errno)};
  return AuditLog(std::move(fd), std::move(sandbox_name), std::move(sandbox_id));
}

void AuditLog::record(const std::string& event, const nlohmann::json& fields) const {
  if (!fd_.valid()) return;
  nlohmann::json line = {
      {"time", utc_timestamp()}, {"event", event}, {"sandbox", {{"name", name_}, {"id", id_}}}};
  line.update(fields);
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  ssize_t written = ::write(fd_.get(), text.data(), text.size());
  if (written != static_cast<ssize_t>(text.size())) {
    // Never silent: the agent keeps running, but the operator learns the trail has a gap.
    fmt::print(stderr, "airlock: audit event '{}' was not fully written: {}\n", event,
               written < 0 ? errno_text(errno) : std::string("short write"));
  }
}

}  // namespace airlock::audit
