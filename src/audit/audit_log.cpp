#include "audit/audit_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <mutex>

#include <fmt/format.h>

#include "audit/audit_chain.h"
#include "audit/log_tail.h"
#include "common/errno_text.h"

namespace airlock::audit {

// Threads of one process (supervisor, egress proxy, exec watcher) serialise on the mutex;
// processes, and other AuditLog objects on the same file, on flock(2) of the open file.
struct AuditLog::ChainCache {
  std::mutex mutex;
  bool known = false;   // false: read the file's last line before the next event
  off_t end = 0;        // the file's size after this process's last line
  ChainPosition after;  // that line's seq and hash
  bool lock_warned = false;
};

namespace {

// flock(LOCK_EX) for one event; unlocked when it goes out of scope.
class ExclusiveFileLock {
 public:
  explicit ExclusiveFileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        error_ = errno;
        return;
      }
    }
  }
  ExclusiveFileLock(const ExclusiveFileLock&) = delete;
  ExclusiveFileLock& operator=(const ExclusiveFileLock&) = delete;
  ~ExclusiveFileLock() {
    if (error_ == 0) ::flock(fd_, LOCK_UN);
  }
  int error() const { return error_; }

 private:
  int fd_;
  int error_ = 0;
};

}  // namespace

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

AuditLog::AuditLog(UniqueFd fd, std::string name, std::string id)
    : fd_(std::move(fd)),
      name_(std::move(name)),
      id_(std::move(id)),
      chain_(std::make_unique<ChainCache>()) {}
AuditLog::AuditLog(AuditLog&&) noexcept = default;
AuditLog& AuditLog::operator=(AuditLog&&) noexcept = default;
AuditLog::~AuditLog() = default;

Result<AuditLog> AuditLog::open(const std::string& path, std::string sandbox_name,
                                std::string sandbox_id) {
  if (path.empty()) return AuditLog(UniqueFd(), std::move(sandbox_name), std::move(sandbox_id));
  // O_APPEND: concurrent sandboxes may share one file; each line is one write(2).
  // O_RDWR: a writer reads the last line it chains from.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Error{"cannot open the audit log " + path + ": " + errno_text(errno)};
  return AuditLog(std::move(fd), std::move(sandbox_name), std::move(sandbox_id));
}

void AuditLog::record(const std::string& event, const nlohmann::json& fields) const {
  if (!enabled()) return;
  nlohmann::json line = {
      {"time", utc_timestamp()}, {"event", event}, {"sandbox", {{"name", name_}, {"id", id_}}}};
  line.update(fields);
  line.erase("seq");  // the chain's own: no field may stand in for them
  line.erase("prev");
  // Serialised before the lock: under it, only the chain fields are put in front.
  const std::string body = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (tap_) tap_->publish(body);
  if (!fd_.valid()) return;

  std::lock_guard<std::mutex> in_process(chain_->mutex);
  const ExclusiveFileLock across_processes(fd_.get());
  if (across_processes.error() != 0 && !chain_->lock_warned) {
    chain_->lock_warned = true;  // once: the events still matter more than the warning
    fmt::print(stderr,
               "airlock: cannot lock the audit log ({}): a concurrent writer may break "
               "its hash chain\n",
               errno_text(across_processes.error()));
  }

  // Another writer appended since this process's last line (or there was none): chain from the
  // file's last line. A pipe or device cannot be read back: the chain is this process's own.
  struct stat status {};
  const bool regular = ::fstat(fd_.get(), &status) == 0 && S_ISREG(status.st_mode);
  bool end_mid_line = false;
  if (regular && (!chain_->known || status.st_size != chain_->end)) {
    Result<std::optional<LastLine>> last = read_last_line(fd_.get(), status.st_size);
    if (!last) {
      // The event is kept, outside the chain, so verify points at it.
      chain_->known = false;
      fmt::print(stderr, "airlock: audit event '{}' written without its chain fields: {}\n", event,
                 last.error().message);
    } else {
      chain_->after = last.value() ? position_after(last.value()->text) : ChainPosition{};
      // A writer died mid-line: its text stays a line of its own, which verify reports.
      end_mid_line = last.value() && !last.value()->terminated;
      chain_->known = true;
    }
  }
  const bool chained = chain_->known || !regular;
  const std::string written_line = chained ? chain_line(chain_->after, body) : body;
  const std::string text = (end_mid_line ? "\n" : "") + written_line + "\n";
  const ssize_t written = ::write(fd_.get(), text.data(), text.size());
  if (written != static_cast<ssize_t>(text.size())) {
    chain_->known = false;
    // Never silent: the agent keeps running, but the operator learns the trail has a gap.
    fmt::print(stderr, "airlock: audit event '{}' was not fully written: {}\n", event,
               written < 0 ? errno_text(errno) : std::string("short write"));
    return;
  }
  if (chained) {
    chain_->after = ChainPosition{chain_->after.seq + 1, sha256_hex(written_line)};
    chain_->end = status.st_size + static_cast<off_t>(text.size());
  }
}

}  // namespace airlock::audit
