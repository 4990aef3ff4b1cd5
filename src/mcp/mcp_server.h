// The MCP protocol on newline-delimited JSON-RPC 2.0: one message in, at most one reply out.
// It knows nothing of stdio or sandboxes: a SessionRunner brings the session up and runs
// commands in it, so unit tests drive the protocol with a fake.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "control/exec_client.h"
#include "mcp/mcp_tools.h"

namespace airlock::mcp {

class SessionRunner {
 public:
  virtual ~SessionRunner() = default;
  // Brings the session up (on initialize); idempotent. The error says why it could not.
  virtual Status start() = 0;
  virtual control::CapturedResult run(const ToolCommand& command) = 0;
};

// Newest first; an unknown requested version is answered with the first.
inline constexpr const char* kProtocolVersions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};

// JSON-RPC 2.0 error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

class McpServer {
 public:
  explicit McpServer(SessionRunner& runner) : runner_(runner) {}

  // One line of input; the reply line (no newline), or nothing for a notification.
  // Safe to call from several threads: tools/call runs concurrently with other messages.
  std::optional<std::string> handle_line(const std::string& line);
  std::optional<nlohmann::json> handle_message(const nlohmann::json& message);

  // Whether the line is a tools/call request, which may run long (the caller runs it aside).
  static bool is_tool_call(const std::string& line);

 private:
  nlohmann::json dispatch(const std::string& method, const nlohmann::json& params);
  nlohmann::json initialize(const nlohmann::json& params);
  nlohmann::json call_tool(const nlohmann::json& params);

  SessionRunner& runner_;
  std::mutex mutex_;
  bool initialized_ = false;
};

}  // namespace airlock::mcp
