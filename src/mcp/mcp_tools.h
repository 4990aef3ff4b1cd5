// The MCP server's four tools: their schemas, how a call's arguments become one command run in
// the session, and how that command's outcome becomes a CallToolResult. Tool results are data:
// strings are JSON-serialised and nothing on the host runs or interprets them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/exec_client.h"

namespace airlock::mcp {

// One command to run inside the session, with `input` as its whole stdin.
struct ToolCommand {
  std::vector<std::string> argv;
  std::string input;
  uint64_t timeout_ms = 0;
};

enum class ToolName { run, read_file, write_file, list_directory };

// A call the server can run: which tool, and the command it maps to.
struct ToolCall {
  ToolName tool;
  ToolCommand command;
};
// Why a call's arguments were refused, in words the model can act on.
struct InvalidArguments {
  std::string message;
};

// The `tools` array of tools/list.
nlohmann::json tool_list();
bool is_known_tool(const std::string& name);
// Checks `arguments` against the tool's input schema and builds its command.
std::variant<ToolCall, InvalidArguments> parse_tool_call(const std::string& name,
                                                         const nlohmann::json& arguments);
// The CallToolResult for what running the call's command gave.
nlohmann::json tool_result(const ToolCall& call, const control::CapturedResult& ran);
// An isError result whose text is `message`.
nlohmann::json error_result(const std::string& message);

}  // namespace airlock::mcp
