// `airlock observe`: runs CMD in a sandbox built from BASE and records what it attempts. The
// proxy does the recording (egress::ObserveMode); this file prepares the run, then reads the
// run's own events back from the audit log to print the table for people and, with -o, the
// suggested policy (src/suggest).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/policy_choice.h"
#include "common/errno_text.h"
#include "suggest/observation_summary.h"
#include "suggest/policy_suggestion.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {
namespace {

// Where the recording goes when the user names no --audit file: a private directory that is
// removed at the end (the recording is printed and turned into the suggestion, then dropped).
class ScratchRecording {
 public:
  static Result<ScratchRecording> create() {
    std::string directory = "/tmp/airlock-observe-XXXXXX";
    if (::mkdtemp(directory.data()) == nullptr) {
      return Error{"cannot create a directory for the recording under /tmp: " + errno_text(errno)};
    }
    return ScratchRecording(directory);
  }
  ScratchRecording(ScratchRecording&& other) noexcept : directory_(std::move(other.directory_)) {
    other.directory_.clear();
  }
  ScratchRecording(const ScratchRecording&) = delete;
  ScratchRecording& operator=(const ScratchRecording&) = delete;
  ScratchRecording& operator=(ScratchRecording&&) = delete;
  ~ScratchRecording() {
    if (directory_.empty()) return;
    ::unlink(path().c_str());
    ::rmdir(directory_.c_str());
  }
  std::string path() const { return directory_ + "/audit.jsonl"; }

 private:
  explicit ScratchRecording(std::string directory) : directory_(std::move(directory)) {}
  std::string directory_;
};

// The size of the audit file before the run: this run's events are the ones after it.
off_t size_of(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 ? status.st_size : 0;
}

// This run's events: those after `offset` that carry the id of the first observing
// sandbox.start there (other sandboxes may append to the same file meanwhile). The agent's
// first exec is recorded before sandbox.start, so the id is found first, then the events.
Result<std::vector<nlohmann::json>> read_run_events(const std::string& path, off_t offset) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Error{"cannot read the recording " + path + ": " + errno_text(errno)};
  file.seekg(offset);
  std::vector<nlohmann::json> all;
  std::string sandbox_id;
  std::string line;
  while (std::getline(file, line)) {
    nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded() || !event.is_object()) continue;  // another writer's torn line
    if (sandbox_id.empty() && event.value("event", "") == "sandbox.start" &&
        event.contains("observe")) {
      sandbox_id = event.value("/sandbox/id"_json_pointer, std::string());
    }
    all.push_back(std::move(event));
  }
  std::vector<nlohmann::json> events;
  for (nlohmann::json& event : all) {
    if (event.value("/sandbox/id"_json_pointer, std::string()) == sandbox_id)
      events.push_back(std::move(event));
  }
  if (sandbox_id.empty()) return Error{"the recording " + path + " has no start of this run"};
  return events;
}

Status write_whole_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".airlock-tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Error{"cannot write " + temporary + ": " + errno_text(errno)};
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temporary.c_str());
    return Error{"cannot write " + path + ": " + errno_text(error)};
  }
  return ok_status();
}

// The base decides what is already allowed; observe needs the proxy whatever its mode says.
void prepare_network(policy::Policy& policy) {
  if (policy.network.mode != policy::NetworkMode::allowlist) {
    policy.network.mode = policy::NetworkMode::allowlist;
  }
}

}  // namespace

int observe_command(const ObserveArguments& arguments) {
  Result<policy::Policy> loaded =
      load_chosen_policy(arguments.policy_file, std::nullopt, "--policy");
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return supervisor::kExitBadInput;
  }
  policy::Policy policy = std::move(loaded).value();
  prepare_network(policy);

  std::optional<ScratchRecording> scratch;
  std::string audit_path;
  if (arguments.audit_path) {
    audit_path = *arguments.audit_path;
  } else {
    Result<ScratchRecording> created = ScratchRecording::create();
    if (!created) {
      fmt::print(stderr, "airlock: {}\n", created.error().message);
      return supervisor::kExitSetupFailed;
    }
    scratch.emplace(std::move(created).value());
    audit_path = scratch->path();
  }
  const off_t offset = size_of(audit_path);

  const egress::ObserveMode mode =
      arguments.forward ? egress::ObserveMode::forward : egress::ObserveMode::deny;
  const char* forward_line =
      "airlock observe --forward: what no rule covers is ALLOWED (through the proxy; internal "
      "addresses, rebinding and SNI/Host checks still hold) and recorded";
  if (arguments.forward) fmt::print(stderr, "{}\n", forward_line);

  RunArguments run;
  run.workspace = arguments.workspace;
  run.audit_path = audit_path;
  run.verbose = arguments.verbose;
  run.dns_upstream = arguments.dns_upstream;
  run.command = arguments.command;
  const int status = run_policy(std::move(policy), run, mode);
  if (status == supervisor::kExitBadInput) return status;  // nothing ran: already explained

  Result<std::vector<nlohmann::json>> events = read_run_events(audit_path, offset);
  if (!events) {
    fmt::print(stderr, "airlock: {}\n", events.error().message);
    return status != 0 ? status : supervisor::kExitSetupFailed;
  }
  fmt::print(stderr, "\n{}", suggest::observation_summary(*events));
  if (arguments.forward) fmt::print(stderr, "{} (end of run)\n", forward_line);

  if (arguments.output) {
    suggest::SuggestOptions options;
    if (arguments.policy_file) options.base = *arguments.policy_file;
    Result<std::string> suggestion = suggest::suggest_policy(*events, options);
    if (!suggestion) {
      fmt::print(stderr, "airlock: cannot suggest a policy: {}\n", suggestion.error().message);
      return status != 0 ? status : supervisor::kExitSetupFailed;
    }
    if (Status written = write_whole_file(*arguments.output, *suggestion); !written) {
      fmt::print(stderr, "airlock: {}\n", written.error().message);
      return status != 0 ? status : supervisor::kExitSetupFailed;
    }
    fmt::print(stderr,
               "airlock: suggested policy written to {} (check it: airlock check --strict "
               "{})\n",
               *arguments.output, *arguments.output);
  }
  if (!arguments.audit_path) {
    fmt::print(stderr, "airlock: the recording is not kept (use --audit FILE to keep it)\n");
  }
  return status;
}

}  // namespace airlock::cli
