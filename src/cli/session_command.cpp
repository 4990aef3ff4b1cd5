// The control plane's commands: session start, stop, exec and ps (control/ does the talking).
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "control/control_client.h"
#include "control/exec_client.h"
#include "policy/policy.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {

std::optional<uint64_t> parse_duration_ms(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const uint64_t number = std::stoull(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit == "ms") return number;
  if (unit.empty() || unit == "s") return number * 1000;
  if (unit == "m") return number * 60 * 1000;
  if (unit == "h") return number * 3600 * 1000;
  return std::nullopt;
}

Result<uint64_t> duration_option(const std::optional<std::string>& text, const std::string& option,
                                 uint64_t fallback) {
  if (!text) return fallback;
  std::optional<uint64_t> parsed = parse_duration_ms(*text);
  if (!parsed) {
    return Error{option + " '" + *text + "' is not a duration: write e.g. 10s, 500ms, 2m"};
  }
  return *parsed;
}

namespace {

std::string human_duration(int64_t ms) {
  const int64_t seconds = ms / 1000;
  if (seconds < 60) return fmt::format("{}s", seconds);
  if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
  return fmt::format("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60);
}

std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{}B", bytes);
  if (bytes < uint64_t{1024} * 1024)
    return fmt::format("{:.1f}KiB", static_cast<double>(bytes) / 1024);
  if (bytes < 1024ULL * 1024 * 1024)
    return fmt::format("{:.1f}MiB", static_cast<double>(bytes) / (1024 * 1024));
  return fmt::format("{:.1f}GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
}

std::string joined_command(const nlohmann::json& command) {
  std::string text;
  for (const auto& part : command) {
    if (!text.empty()) text += ' ';
    // One row per sandbox: a multi-line script argument is shown on one line.
    for (char c : part.get<std::string>()) {
      if (c == '\n') {
        text += "\\n";
      } else {
        text += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
      }
    }
  }
  return text.empty() ? "-" : text;
}

}  // namespace

int session_start_command(RunArguments arguments) {
  arguments.session = true;
  // Shown nowhere (a session has no command of its own), but the launch plan wants one.
  arguments.command = {"airlock-session"};
  return run_command(arguments);
}

Status stop_and_wait(const std::string& name, uint64_t grace_ms) {
  Result<nlohmann::json> answer =
      control::request_once(name, {{"op", "stop"}, {"grace_ms", grace_ms}});
  if (!answer) return answer.error();
  // Returns once it is torn down: the supervisor removes the socket as its last act.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms) +
                       std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < give_up) {
    if (!control::connect_to_sandbox(name)) return ok_status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error{name + " did not stop within its grace period and 10 s more"};
}

int stop_command(const StopArguments& arguments) {
  Result<uint64_t> grace_ms = duration_option(arguments.grace, "--grace", uint64_t{10} * 1000);
  if (!grace_ms) {
    fmt::print(stderr, "airlock: {}\n", grace_ms.error().message);
    return supervisor::kExitBadInput;
  }
  if (Status stopped = stop_and_wait(arguments.name, *grace_ms); !stopped) {
    fmt::print(stderr, "airlock: {}\n", stopped.error().message);
    return 1;
  }
  return 0;
}

int revoke_command(const RevokeArguments& arguments) {
  Result<nlohmann::json> answer = control::request_once(
      arguments.name, {{"op", "revoke"}, {"credential", arguments.credential}});
  if (!answer) {
    fmt::print(stderr, "airlock: {}\n", answer.error().message);
    return 1;
  }
  fmt::print(stderr, "airlock: {} revoked in {}: its placeholder is refused from now on\n",
             arguments.credential, arguments.name);
  return 0;
}

int exec_command(const ExecArguments& arguments) {
  control::ExecRequest request;
  request.session = arguments.name;
  request.argv = arguments.command;
  request.environment = arguments.environment;
  request.cwd = arguments.cwd;
  for (const std::string& entry : arguments.environment) {
    if (entry.find('=') == std::string::npos || entry.front() == '=') {
      fmt::print(stderr, "airlock: -e '{}' is not K=V\n", entry);
      return supervisor::kExitBadInput;
    }
  }
  if (arguments.timeout) {
    request.timeout_ms = parse_duration_ms(*arguments.timeout);
    if (!request.timeout_ms) {
      fmt::print(stderr, "airlock: --timeout '{}' is not a duration: write e.g. 30s, 500ms, 2m\n",
                 *arguments.timeout);
      return supervisor::kExitBadInput;
    }
  }
  const control::CapturedResult result =
      arguments.json ? control::exec_captured(request, "") : control::exec_streaming(request);
  if (result.failure) {
    fmt::print(stderr, "airlock: {}\n", result.failure->message);
    return result.failure->exit_code_hint;
  }
  const control::ExecOutcome& outcome = *result.outcome;
  if (arguments.json) {
    nlohmann::json printed = {
        {"stdout", outcome.stdout_text},  {"stderr", outcome.stderr_text},
        {"exit_code", outcome.exit_code}, {"signal", nullptr},
        {"timed_out", outcome.timed_out}, {"duration_ms", outcome.duration_ms},
        {"truncated", outcome.truncated}};
    if (outcome.signal) printed["signal"] = *outcome.signal;
    fmt::print("{}\n", printed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return 0;
  }
  if (outcome.timed_out) {
    fmt::print(stderr, "airlock: {} timed out after {}: killed\n", arguments.command.front(),
               *arguments.timeout);
  }
  return outcome.exit_code;
}

int ps_command(const PsArguments& arguments) {
  const std::vector<nlohmann::json> sandboxes = control::list_sandboxes();
  if (arguments.json) {
    fmt::print("{}\n", nlohmann::json(sandboxes).dump(2));
    return 0;
  }
  fmt::print("{:<24} {:<8} {:<9} {:>8} {:>8} {:<20} {:>11} {:>19} {:>9} {:>5}  {}\n", "NAME",
             "KIND", "ID", "PID", "UPTIME", "POLICY", "CONN(A/D)", "BYTES(UP/DOWN)", "MEMORY",
             "PIDS", "COMMAND");
  for (const nlohmann::json& info : sandboxes) {
    std::string connections = "-";
    std::string bytes = "-";
    if (info.contains("connections")) {
      connections = fmt::format("{}/{}", info["connections"].value("allowed", 0),
                                info["connections"].value("denied", 0));
      bytes = fmt::format("{}/{}", human_bytes(info["bytes"].value("up", uint64_t{0})),
                          human_bytes(info["bytes"].value("down", uint64_t{0})));
    }
    std::string memory = "-";
    std::string pids = "-";
    if (info.contains("usage")) {
      memory = human_bytes(info["usage"].value("memory_bytes", uint64_t{0}));
      pids = std::to_string(info["usage"].value("pids", 0));
    }
    const std::string policy =
        fmt::format("{}@{}", info["policy"].value("name", "?"),
                    info["policy"].value("sha256", std::string("?")).substr(0, 8));
    fmt::print("{:<24} {:<8} {:<9} {:>8} {:>8} {:<20} {:>11} {:>19} {:>9} {:>5}  {}\n",
               info.value("name", "?"), info.value("kind", "?"),
               info.value("id", std::string("?")).substr(0, 8), info.value("pid", 0),
               human_duration(info.value("uptime_ms", int64_t{0})), policy, connections, bytes,
               memory, pids, joined_command(info["command"]));
  }
  return 0;
}

}  // namespace airlock::cli
