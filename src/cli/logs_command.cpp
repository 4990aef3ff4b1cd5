// `airlock logs [-f] [--json] [NAME]`: a sandbox's events from its control socket, one human
// line each (time, decision or event, destination, rule or reason, process), or as recorded.
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "control/control_client.h"
#include "control/json_lines.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {
namespace {

std::string text_of(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

std::string process_name(const nlohmann::json& event) {
  if (!event.contains("process") || !event["process"].is_object()) return "";
  const std::string exe = event["process"].value("exe", std::string());
  return exe.substr(exe.rfind('/') + 1);
}

// "13:45:01.123" from "2026-11-22T13:45:01.123Z".
std::string clock_time(const nlohmann::json& event) {
  const std::string time = event.value("time", std::string());
  return time.size() >= 23 ? time.substr(11, 12) : time;
}

std::string human_line(const nlohmann::json& event) {
  const std::string kind = event.value("event", std::string("?"));
  if (kind == "egress.decision") {
    const std::string decision = event.value("decision", std::string("?"));
    std::string destination = text_of(event.value("host", nlohmann::json()));
    if (destination.empty()) destination = text_of(event.value("address", nlohmann::json()));
    if (event.contains("port")) destination += ":" + text_of(event["port"]);
    const std::string rule = text_of(event.value("rule", nlohmann::json()));
    const std::string why = decision == "allow" && !rule.empty()
                                ? "rule " + rule
                                : event.value("reason", std::string());
    return fmt::format("{} {:<5} {:<40} {}  {}", clock_time(event), decision, destination, why,
                       process_name(event));
  }
  std::string details;
  for (const auto& [key, value] : event.items()) {
    if (key == "time" || key == "event" || key == "sandbox" || key == "seq" || key == "prev")
      continue;
    std::string text = text_of(value);
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    details += fmt::format(" {}={}", key, text);
  }
  return fmt::format("{} {}{}", clock_time(event), kind, details);
}

}  // namespace

int logs_command(const LogsArguments& arguments) {
  std::string name;
  if (arguments.name) {
    name = *arguments.name;
  } else {
    const std::vector<nlohmann::json> running = control::list_sandboxes();
    if (running.size() != 1) {
      fmt::print(stderr, "airlock: {} sandboxes are running; name one (airlock ps lists them)\n",
                 running.size());
      return supervisor::kExitBadInput;
    }
    name = running.front().value("name", std::string());
  }
  Result<UniqueFd> connection = control::connect_to_sandbox(name);
  if (!connection) {
    fmt::print(stderr, "airlock: {}\n", connection.error().message);
    return 1;
  }
  if (!control::send_line(connection->get(), {{"op", "logs"}, {"follow", arguments.follow}})) {
    fmt::print(stderr, "airlock: sandbox {} closed the connection\n", name);
    return 1;
  }
  // Until the sandbox ends (follow) or the kept events are all there.
  control::LineReader reader;
  for (;;) {
    const control::LineReader::Fill filled = reader.fill(connection->get());
    while (std::optional<std::string> line = reader.next_line()) {
      const nlohmann::json event = nlohmann::json::parse(*line, nullptr, false);
      if (event.is_object() && event.contains("ok") && event["ok"] == false) {
        fmt::print(stderr, "airlock: {}\n", event.value("error", std::string("refused")));
        return 1;
      }
      if (arguments.json) {
        fmt::print("{}\n", *line);
      } else if (event.is_object()) {
        fmt::print("{}\n", human_line(event));
      }
    }
    (void)std::fflush(stdout);
    if (filled != control::LineReader::Fill::data) return 0;
  }
}

}  // namespace airlock::cli
