#include "mcp/mcp_tools.h"

#include <cmath>

#include <fmt/format.h>

namespace airlock::mcp {
namespace {

using nlohmann::json;

constexpr double kDefaultRunTimeoutSeconds = 60;
constexpr double kMaxRunTimeoutSeconds = 3600;
// read_file, write_file and list_directory are quick; a stuck one (a FIFO) must not hang a call.
constexpr uint64_t kFileToolTimeoutMs = uint64_t{60} * 1000;

const std::string kCapNote =
    fmt::format("Output is captured up to {} MiB per stream; the rest is dropped.",
                control::kDefaultOutputCap / (size_t{1024} * 1024));

json object_schema(json properties, json required) {
  return {{"type", "object"},
          {"properties", std::move(properties)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}

json path_property(const std::string& what) {
  return {{"type", "string"}, {"description", what}};
}

json run_output_schema() {
  return object_schema(
      {{"stdout", {{"type", "string"}}},
       {"stderr", {{"type", "string"}}},
       {"exit_code", {{"type", "integer"}, {"description", "128+N when killed by signal N"}}},
       {"signal", {{"type", {"integer", "null"}}}},
       {"timed_out", {{"type", "boolean"}}},
       {"truncated", {{"type", "boolean"}, {"description", "a stream went past the cap"}}},
       {"duration_ms", {{"type", "integer"}}}},
      {"stdout", "stderr", "exit_code", "signal", "timed_out", "truncated", "duration_ms"});
}

json run_tool() {
  return {
      {"name", "run"},
      {"title", "Run a shell command in the sandbox"},
      {"description",
       "Runs `/bin/sh -c COMMAND` inside the airlock sandbox (by default no network, the "
       "workspace writable, the rest of the system read-only). State persists between calls "
       "(same session). A non-zero exit status is a normal result. " +
           kCapNote},
      {"inputSchema",
       object_schema({{"command", {{"type", "string"}, {"description", "a /bin/sh command line"}}},
                      {"timeout_s",
                       {{"type", "number"},
                        {"exclusiveMinimum", 0},
                        {"maximum", kMaxRunTimeoutSeconds},
                        {"default", kDefaultRunTimeoutSeconds},
                        {"description", "seconds before the command is killed (default 60)"}}}},
                     {"command"})},
      {"outputSchema", run_output_schema()}};
}

json file_tool(const std::string& name, const std::string& title, const std::string& description,
               json properties, json required) {
  return {{"name", name},
          {"title", title},
          {"description", description},
          {"inputSchema", object_schema(std::move(properties), std::move(required))}};
}

// Checks that `arguments` has only `allowed` keys and that the required strings are strings.
std::optional<std::string> check_keys(const json& arguments,
                                      const std::vector<std::string>& allowed) {
  for (const auto& [key, value] : arguments.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return fmt::format("unknown argument '{}'", key);
    }
  }
  return std::nullopt;
}

std::variant<std::string, InvalidArguments> required_string(const json& arguments,
                                                            const std::string& key) {
  if (!arguments.contains(key)) return InvalidArguments{fmt::format("'{}' is required", key)};
  if (!arguments[key].is_string())
    return InvalidArguments{fmt::format("'{}' must be a string", key)};
  return arguments[key].get<std::string>();
}

std::variant<uint64_t, InvalidArguments> run_timeout_ms(const json& arguments) {
  if (!arguments.contains("timeout_s")) {
    return static_cast<uint64_t>(kDefaultRunTimeoutSeconds * 1000);
  }
  const json& value = arguments["timeout_s"];
  if (!value.is_number()) return InvalidArguments{"'timeout_s' must be a number"};
  const double seconds = value.get<double>();
  if (!(seconds > 0) || seconds > kMaxRunTimeoutSeconds) {
    return InvalidArguments{"'timeout_s' must be more than 0 and at most 3600"};
  }
  return static_cast<uint64_t>(std::llround(seconds * 1000));
}

std::string signal_note(const control::ExecOutcome& outcome) {
  std::string note;
  if (outcome.signal) note += fmt::format(", killed by signal {}", *outcome.signal);
  if (outcome.timed_out) note += ", timed out";
  return note;
}

json text_content(const std::string& text) {
  return {{"type", "text"}, {"text", text}};
}

json run_result(const control::ExecOutcome& outcome) {
  std::string text = fmt::format("exit status: {}{}\n", outcome.exit_code, signal_note(outcome));
  text += "--- stdout ---\n" + outcome.stdout_text;
  if (!outcome.stdout_text.empty() && outcome.stdout_text.back() != '\n') text += '\n';
  text += "--- stderr ---\n" + outcome.stderr_text;
  if (outcome.truncated) {
    if (!outcome.stderr_text.empty() && outcome.stderr_text.back() != '\n') text += '\n';
    text += "--- " + kCapNote + " ---\n";
  }
  json structured = {{"stdout", outcome.stdout_text},     {"stderr", outcome.stderr_text},
                     {"exit_code", outcome.exit_code},    {"signal", nullptr},
                     {"timed_out", outcome.timed_out},    {"truncated", outcome.truncated},
                     {"duration_ms", outcome.duration_ms}};
  if (outcome.signal) structured["signal"] = *outcome.signal;
  return {{"content", json::array({text_content(text)})},
          {"structuredContent", std::move(structured)},
          {"isError", false}};
}

// read_file, write_file, list_directory: what the command said, or its stderr as the error.
json file_result(const ToolCall& call, const control::ExecOutcome& outcome) {
  if (outcome.exit_code != 0) {
    std::string reason = outcome.stderr_text;
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    if (reason.empty()) reason = fmt::format("exit status {}", outcome.exit_code);
    return error_result(reason + signal_note(outcome));
  }
  json content = json::array();
  if (call.tool == ToolName::write_file) {
    content.push_back(text_content(
        fmt::format("wrote {} bytes to {}", call.command.input.size(), call.command.argv.back())));
  } else {
    content.push_back(text_content(outcome.stdout_text));
  }
  if (outcome.truncated) content.push_back(text_content(kCapNote));
  return {{"content", std::move(content)}, {"isError", false}};
}

}  // namespace

json tool_list() {
  const json path_required = json::array({"path"});
  return json::array(
      {run_tool(),
       file_tool("read_file", "Read a file in the sandbox",
                 "Reads a file as the sandbox sees it (`cat -- PATH` inside the session); what the "
                 "sandbox cannot read fails with its reason. " +
                     kCapNote,
                 {{"path", path_property("relative to the workspace, or absolute")}},
                 path_required),
       file_tool("write_file", "Write a file in the sandbox",
                 "Creates or replaces a file as the sandbox sees it (content written by `cat > "
                 "PATH` inside the session); only where the sandbox may write.",
                 {{"path", path_property("relative to the workspace, or absolute")},
                  {"content", {{"type", "string"}, {"description", "the whole new content"}}}},
                 {"path", "content"}),
       file_tool("list_directory", "List a directory in the sandbox",
                 "Lists a directory as the sandbox sees it (`ls -la -- PATH` inside the "
                 "session). " +
                     kCapNote,
                 {{"path", path_property("relative to the workspace, or absolute")}},
                 path_required)});
}

bool is_known_tool(const std::string& name) {
  return name == "run" || name == "read_file" || name == "write_file" || name == "list_directory";
}

std::variant<ToolCall, InvalidArguments> parse_tool_call(const std::string& name,
                                                         const json& arguments) {
  if (!arguments.is_object()) return InvalidArguments{"arguments must be an object"};
  if (name == "run") {
    if (auto unknown = check_keys(arguments, {"command", "timeout_s"}))
      return InvalidArguments{*unknown};
    auto command = required_string(arguments, "command");
    if (auto* invalid = std::get_if<InvalidArguments>(&command)) return *invalid;
    auto timeout = run_timeout_ms(arguments);
    if (auto* invalid = std::get_if<InvalidArguments>(&timeout)) return *invalid;
    return ToolCall{
        ToolName::run,
        {{"/bin/sh", "-c", std::get<std::string>(command)}, "", std::get<uint64_t>(timeout)}};
  }
  const bool writes = name == "write_file";
  const std::vector<std::string> allowed =
      writes ? std::vector<std::string>{"path", "content"} : std::vector<std::string>{"path"};
  if (auto unknown = check_keys(arguments, allowed)) return InvalidArguments{*unknown};
  auto path = required_string(arguments, "path");
  if (auto* invalid = std::get_if<InvalidArguments>(&path)) return *invalid;
  const std::string& where = std::get<std::string>(path);
  if (name == "read_file") {
    return ToolCall{ToolName::read_file, {{"cat", "--", where}, "", kFileToolTimeoutMs}};
  }
  if (name == "list_directory") {
    return ToolCall{ToolName::list_directory, {{"ls", "-la", "--", where}, "", kFileToolTimeoutMs}};
  }
  auto content = required_string(arguments, "content");
  if (auto* invalid = std::get_if<InvalidArguments>(&content)) return *invalid;
  // The path is $1, never part of the script: no quoting to get wrong.
  return ToolCall{ToolName::write_file,
                  {{"sh", "-c", "cat > \"$1\"", "sh", where},
                   std::get<std::string>(content),
                   kFileToolTimeoutMs}};
}

json tool_result(const ToolCall& call, const control::CapturedResult& ran) {
  if (!ran.outcome) {
    return error_result("could not run in the sandbox: " +
                        (ran.failure ? ran.failure->message : std::string("no outcome")));
  }
  if (call.tool == ToolName::run) return run_result(*ran.outcome);
  return file_result(call, *ran.outcome);
}

json error_result(const std::string& message) {
  return {{"content", json::array({text_content(message)})}, {"isError", true}};
}

}  // namespace airlock::mcp
