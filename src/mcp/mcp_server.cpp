#include "mcp/mcp_server.h"

#include <fmt/format.h>

namespace airlock::mcp {
namespace {

using nlohmann::json;

// A JSON-RPC error to send back, thrown only inside dispatch and caught in handle_message.
struct RpcError {
  int code;
  std::string message;
};

json error_reply(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

// Strings from commands may hold any bytes: invalid UTF-8 becomes U+FFFD instead of an exception.
std::string serialise(const json& message) {
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string negotiated_version(const json& params) {
  const json requested = params.value("protocolVersion", json());
  if (requested.is_string()) {
    for (const char* version : kProtocolVersions) {
      if (requested.get<std::string>() == version) return version;
    }
  }
  return kProtocolVersions[0];
}

}  // namespace

std::optional<std::string> McpServer::handle_line(const std::string& line) {
  json message = json::parse(line, nullptr, false);
  if (message.is_discarded()) return serialise(error_reply(nullptr, kParseError, "Parse error"));
  std::optional<json> reply = handle_message(message);
  if (!reply) return std::nullopt;
  return serialise(*reply);
}

bool McpServer::is_tool_call(const std::string& line) {
  const json message = json::parse(line, nullptr, false);
  return message.is_object() && message.contains("id") &&
         message.value("method", json()) == "tools/call";
}

std::optional<json> McpServer::handle_message(const json& message) {
  if (!message.is_object()) {
    // Batches were removed in 2025-06-18; the older versions' clients do not send them either.
    return error_reply(nullptr, kInvalidRequest, "Invalid Request: expected one JSON object");
  }
  const bool has_id = message.contains("id");
  const json id = has_id ? message["id"] : json();
  const bool valid_id = id.is_string() || id.is_number_integer();
  if (!message.contains("method")) {
    // A response to a request of ours: we send none, so there is nothing to match it with.
    if (message.contains("result") || message.contains("error")) return std::nullopt;
    return error_reply(valid_id ? id : json(), kInvalidRequest, "Invalid Request: no method");
  }
  if (message.value("jsonrpc", json()) != "2.0" || !message["method"].is_string() ||
      (has_id && !valid_id)) {
    if (!has_id) return std::nullopt;  // notifications never get a reply, even a bad one
    return error_reply(valid_id ? id : json(), kInvalidRequest, "Invalid Request");
  }
  const std::string method = message["method"].get<std::string>();
  const json params = message.value("params", json::object());
  if (!has_id) {
    // notifications/initialized, notifications/cancelled (a call still answers; the client
    // drops it) and anything else: nothing to say.
    return std::nullopt;
  }
  if (!params.is_object()) return error_reply(id, kInvalidParams, "params must be an object");
  try {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", dispatch(method, params)}};
  } catch (const RpcError& error) {
    return error_reply(id, error.code, error.message);
  }
}

json McpServer::dispatch(const std::string& method, const json& params) {
  if (method == "initialize") return initialize(params);
  if (method == "ping") return json::object();
  if (method == "tools/list") return {{"tools", tool_list()}};
  if (method == "tools/call") return call_tool(params);
  throw RpcError{kMethodNotFound, "Method not found: " + method};
}

json McpServer::initialize(const json& params) {
  if (Status started = runner_.start(); !started) {
    throw RpcError{kInternalError, "cannot start the sandbox: " + started.error().message};
  }
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    initialized_ = true;
  }
  return {{"protocolVersion", negotiated_version(params)},
          {"capabilities", {{"tools", json::object()}}},
          {"serverInfo", {{"name", "airlock"}, {"version", "0.1.0"}}},
          {"instructions",
           "Every tool runs inside one airlock sandbox session: commands, files and directories "
           "are the sandbox's view, and what the policy denies fails with its reason."}};
}

json McpServer::call_tool(const json& params) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!initialized_) throw RpcError{kInvalidRequest, "not initialized: send initialize first"};
  }
  const json name = params.value("name", json());
  if (!name.is_string()) throw RpcError{kInvalidParams, "tools/call needs a tool name"};
  if (!is_known_tool(name.get<std::string>())) {
    throw RpcError{kInvalidParams, "Unknown tool: " + name.get<std::string>()};
  }
  // Bad arguments are a tool error, not a protocol one, so the model sees why and can retry.
  std::variant<ToolCall, InvalidArguments> call =
      parse_tool_call(name.get<std::string>(), params.value("arguments", json::object()));
  if (const auto* invalid = std::get_if<InvalidArguments>(&call)) {
    return error_result("invalid arguments: " + invalid->message);
  }
  const ToolCall& tool_call = std::get<ToolCall>(call);
  return tool_result(tool_call, runner_.run(tool_call.command));
}

}  // namespace airlock::mcp
