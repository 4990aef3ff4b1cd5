// The MCP protocol without a sandbox: a fake SessionRunner records the commands the tools map to
// and returns canned outcomes.
#include "mcp/mcp_server.h"

#include <gtest/gtest.h>

namespace airlock::mcp {
namespace {

using nlohmann::json;

class FakeSession : public SessionRunner {
 public:
  Status start() override {
    ++starts;
    if (start_error) return Error{*start_error};
    return ok_status();
  }
  control::CapturedResult run(const ToolCommand& command) override {
    commands.push_back(command);
    return next;
  }

  int starts = 0;
  std::optional<std::string> start_error;
  std::vector<ToolCommand> commands;
  control::CapturedResult next;
};

control::CapturedResult exited(int code, std::string out, std::string err = "") {
  control::CapturedResult result;
  result.outcome = control::ExecOutcome{};
  result.outcome->exit_code = code;
  result.outcome->stdout_text = std::move(out);
  result.outcome->stderr_text = std::move(err);
  return result;
}

class McpServerTest : public ::testing::Test {
 protected:
  json send(const json& message) {
    std::optional<std::string> reply = server.handle_line(message.dump());
    EXPECT_TRUE(reply.has_value()) << message.dump();
    if (!reply) return json();
    EXPECT_EQ(reply->find('\n'), std::string::npos);  // one message, one line
    return json::parse(*reply);
  }
  json initialize(const json& version = "2025-06-18") {
    return send({{"jsonrpc", "2.0"},
                 {"id", 1},
                 {"method", "initialize"},
                 {"params", {{"protocolVersion", version}, {"capabilities", json::object()}}}});
  }
  json call(const std::string& tool, const json& arguments) {
    return send({{"jsonrpc", "2.0"},
                 {"id", "call-1"},
                 {"method", "tools/call"},
                 {"params", {{"name", tool}, {"arguments", arguments}}}});
  }

  FakeSession session;
  McpServer server{session};
};

TEST_F(McpServerTest, InitializeAnswersTheRequestedVersionWhenSupported) {
  for (const char* version : {"2025-06-18", "2025-03-26", "2024-11-05"}) {
    const json reply = initialize(version);
    EXPECT_EQ(reply["result"]["protocolVersion"], version);
  }
  const json reply = initialize("2025-03-26");
  EXPECT_EQ(reply["id"], 1);
  EXPECT_EQ(reply["result"]["capabilities"], json({{"tools", json::object()}}));
  EXPECT_EQ(reply["result"]["serverInfo"], json({{"name", "airlock"}, {"version", "0.1.0"}}));
  EXPECT_EQ(session.starts, 4);
}

TEST_F(McpServerTest, InitializeAnswersTheNewestForAnUnknownVersion) {
  EXPECT_EQ(initialize("2099-01-01")["result"]["protocolVersion"], "2025-06-18");
  EXPECT_EQ(initialize(json())["result"]["protocolVersion"], "2025-06-18");
}

TEST_F(McpServerTest, InitializeFailsWithTheReasonWhenTheSessionDoesNotStart) {
  session.start_error = "no user namespaces";
  const json reply = initialize();
  EXPECT_EQ(reply["error"]["code"], kInternalError);
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("no user namespaces"),
            std::string::npos);
  EXPECT_EQ(call("run", {{"command", "true"}})["error"]["code"], kInvalidRequest);
  EXPECT_TRUE(session.commands.empty());
}

TEST_F(McpServerTest, NotificationsNeverGetAReply) {
  EXPECT_FALSE(server.handle_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  EXPECT_FALSE(server.handle_line(R"({"jsonrpc":"2.0","method":"no/such/notification"})"));
  EXPECT_FALSE(server.handle_line(R"({"jsonrpc":"2.0","method":"tools/list","params":7})"));
  EXPECT_FALSE(server.handle_line(R"({"jsonrpc":"2.0","id":5,"result":{}})"));  // a response
}

TEST_F(McpServerTest, PingAnswersAnEmptyResult) {
  const json reply = send({{"jsonrpc", "2.0"}, {"id", "p"}, {"method", "ping"}});
  EXPECT_EQ(reply, json({{"jsonrpc", "2.0"}, {"id", "p"}, {"result", json::object()}}));
}

TEST_F(McpServerTest, UnknownMethodIsMethodNotFoundWithTheSameId) {
  const json reply = send({{"jsonrpc", "2.0"}, {"id", 42}, {"method", "resources/list"}});
  EXPECT_EQ(reply["id"], 42);
  EXPECT_EQ(reply["error"]["code"], kMethodNotFound);
}

TEST_F(McpServerTest, MalformedJsonIsAParseErrorWithIdNull) {
  const std::optional<std::string> reply = server.handle_line(R"({"jsonrpc":"2.0","id":1,)");
  ASSERT_TRUE(reply);
  const json parsed = json::parse(*reply);
  EXPECT_EQ(parsed["error"]["code"], kParseError);
  EXPECT_TRUE(parsed.contains("id") && parsed["id"].is_null());
}

TEST_F(McpServerTest, InvalidRequestsAreRefused) {
  EXPECT_EQ(
      send(json::array({{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}}))["error"]["code"],
      kInvalidRequest);
  EXPECT_EQ(send({{"jsonrpc", "1.0"}, {"id", 1}, {"method", "ping"}})["error"]["code"],
            kInvalidRequest);
  EXPECT_EQ(send({{"jsonrpc", "2.0"}, {"id", json::object()}, {"method", "ping"}})["error"]["code"],
            kInvalidRequest);
  EXPECT_EQ(send({{"jsonrpc", "2.0"}, {"id", 3}})["error"]["code"], kInvalidRequest);
}

TEST_F(McpServerTest, ToolsListHasTheFourToolsWithClosedSchemas) {
  const json tools =
      send({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}})["result"]["tools"];
  std::vector<std::string> names;
  for (const json& tool : tools) {
    names.push_back(tool["name"]);
    EXPECT_EQ(tool["inputSchema"]["type"], "object");
    EXPECT_EQ(tool["inputSchema"]["additionalProperties"], false);
    EXPECT_FALSE(tool["description"].get<std::string>().empty());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"run", "read_file", "write_file", "list_directory"}));
  EXPECT_EQ(tools[0]["inputSchema"]["required"], json::array({"command"}));
  EXPECT_EQ(tools[0]["outputSchema"]["additionalProperties"], false);
  EXPECT_NE(tools[0]["description"].get<std::string>().find("1 MiB per stream"), std::string::npos);
}

TEST_F(McpServerTest, RunMapsToShellWithTheDefaultTimeout) {
  initialize();
  session.next = exited(0, "hello\n");
  const json reply = call("run", {{"command", "echo hello"}});
  ASSERT_EQ(session.commands.size(), 1u);
  EXPECT_EQ(session.commands[0].argv, (std::vector<std::string>{"/bin/sh", "-c", "echo hello"}));
  EXPECT_EQ(session.commands[0].timeout_ms, 60000u);
  EXPECT_EQ(reply["id"], "call-1");
  const json& result = reply["result"];
  EXPECT_EQ(result["isError"], false);
  EXPECT_EQ(result["structuredContent"]["stdout"], "hello\n");
  EXPECT_EQ(result["structuredContent"]["exit_code"], 0);
  EXPECT_TRUE(result["structuredContent"]["signal"].is_null());
  EXPECT_EQ(result["structuredContent"]["timed_out"], false);
  const std::string text = result["content"][0]["text"];
  EXPECT_NE(text.find("exit status: 0"), std::string::npos);
  EXPECT_NE(text.find("--- stdout ---\nhello\n"), std::string::npos);
}

TEST_F(McpServerTest, RunNonZeroExitAndTimeoutAreNormalResults) {
  initialize();
  session.next = exited(137, "", "");
  session.next.outcome->signal = 9;
  session.next.outcome->timed_out = true;
  const json result = call("run", {{"command", "sleep 30"}, {"timeout_s", 1}})["result"];
  EXPECT_EQ(session.commands[0].timeout_ms, 1000u);
  EXPECT_EQ(result["isError"], false);
  EXPECT_EQ(result["structuredContent"]["signal"], 9);
  EXPECT_EQ(result["structuredContent"]["timed_out"], true);
  EXPECT_EQ(call("run", {{"command", "x"}, {"timeout_s", 0.25}})["result"]["isError"], false);
  EXPECT_EQ(session.commands[1].timeout_ms, 250u);
}

TEST_F(McpServerTest, RunArgumentsAreCheckedAndRefusedAsToolErrors) {
  initialize();
  for (const json& arguments :
       {json::object(), json{{"command", 5}}, json{{"command", "x"}, {"timeout_s", 3601}},
        json{{"command", "x"}, {"timeout_s", 0}}, json{{"command", "x"}, {"timeout_s", "9"}},
        json{{"command", "x"}, {"extra", 1}}}) {
    const json result = call("run", arguments)["result"];
    EXPECT_EQ(result["isError"], true) << arguments.dump();
    EXPECT_NE(result["content"][0]["text"].get<std::string>().find("invalid arguments"),
              std::string::npos);
  }
  EXPECT_TRUE(session.commands.empty());
}

TEST_F(McpServerTest, RunThatCannotRunIsAToolError) {
  initialize();
  session.next.failure = control::ExecFailure{"no sandbox named mcp-1", 125};
  const json result = call("run", {{"command", "true"}})["result"];
  EXPECT_EQ(result["isError"], true);
  EXPECT_FALSE(result.contains("structuredContent"));
  EXPECT_NE(result["content"][0]["text"].get<std::string>().find("no sandbox named mcp-1"),
            std::string::npos);
}

TEST_F(McpServerTest, UnknownToolIsInvalidParams) {
  initialize();
  EXPECT_EQ(call("rm_rf", json::object())["error"]["code"], kInvalidParams);
}

TEST_F(McpServerTest, FileToolsRunFixedProgramsWithThePathAsOneArgument) {
  initialize();
  session.next = exited(0, "content");
  EXPECT_EQ(call("read_file", {{"path", "a b;$(x)"}})["result"]["content"][0]["text"], "content");
  EXPECT_EQ(session.commands[0].argv, (std::vector<std::string>{"cat", "--", "a b;$(x)"}));
  call("list_directory", {{"path", "-R"}});
  EXPECT_EQ(session.commands[1].argv, (std::vector<std::string>{"ls", "-la", "--", "-R"}));
  session.next = exited(0, "");
  const json written = call("write_file", {{"path", "\"; rm x"}, {"content", "data\n"}});
  EXPECT_EQ(written["result"]["isError"], false);
  EXPECT_EQ(session.commands[2].argv,
            (std::vector<std::string>{"sh", "-c", "cat > \"$1\"", "sh", "\"; rm x"}));
  EXPECT_EQ(session.commands[2].input, "data\n");
}

TEST_F(McpServerTest, FileToolFailureIsAToolErrorWithTheCommandsStderr) {
  initialize();
  session.next = exited(1, "", "cat: /etc/shadow: Permission denied\n");
  const json result = call("read_file", {{"path", "/etc/shadow"}})["result"];
  EXPECT_EQ(result["isError"], true);
  EXPECT_EQ(result["content"][0]["text"], "cat: /etc/shadow: Permission denied");
  EXPECT_EQ(call("write_file", {{"path", "x"}})["result"]["isError"], true);  // no content
}

TEST_F(McpServerTest, OutputIsDataEvenWhenItIsNotUtf8OrLooksLikeACommand) {
  initialize();
  session.next = exited(0, std::string("$(touch /tmp/pwned)\xff\xfe\n"));
  const json result = call("run", {{"command", "x"}})["result"];
  EXPECT_EQ(result["structuredContent"]["stdout"], "$(touch /tmp/pwned)\xEF\xBF\xBD\xEF\xBF\xBD\n");
}

TEST_F(McpServerTest, ToolCallsAreRecognisedForRunningAside) {
  EXPECT_TRUE(McpServer::is_tool_call(R"({"jsonrpc":"2.0","id":1,"method":"tools/call"})"));
  EXPECT_FALSE(McpServer::is_tool_call(R"({"jsonrpc":"2.0","method":"tools/call"})"));
  EXPECT_FALSE(McpServer::is_tool_call(R"({"jsonrpc":"2.0","id":1,"method":"ping"})"));
  EXPECT_FALSE(McpServer::is_tool_call("not json"));
}

}  // namespace
}  // namespace airlock::mcp
