// Stack files: start order, defaults, and one located error per kind of mistake.
#include <gtest/gtest.h>

#include <string>

#include "stack/stack_file.h"

namespace airlock::stack {
namespace {

Result<Stack> load(const std::string& text) {
  return load_stack_text(text, "stack.yaml", "/srv/rag");
}

std::string error_of(const std::string& text) {
  Result<Stack> loaded = load(text);
  EXPECT_FALSE(loaded) << "expected an error for:\n" << text;
  return loaded ? std::string() : loaded.error().message;
}

TEST(StackFileTest, LinkTargetsStartFirstAndDefaultsAreFilledIn) {
  Result<Stack> stack = load(R"(version: 1
sandboxes:
  agent:
    policy: agent.yaml
    links: [vectordb:5432, signer:8443]
  vectordb:
    policy: /etc/airlock/vectordb.yaml
    workspace: data/pg
    command: [postgres, -D, ./pgdata]
  signer:
    profile: default
)");
  ASSERT_TRUE(stack) << stack.error().message;
  EXPECT_EQ(stack->name, "stack");
  ASSERT_EQ(stack->sandboxes.size(), 3u);
  EXPECT_EQ(stack->sandboxes[0].name, "vectordb");
  EXPECT_EQ(stack->sandboxes[1].name, "signer");
  EXPECT_EQ(stack->sandboxes[2].name, "agent");
  const StackSandbox& agent = stack->sandboxes[2];
  EXPECT_EQ(*agent.policy, "/srv/rag/agent.yaml");
  EXPECT_EQ(agent.workspace, "/srv/rag/agent");
  EXPECT_TRUE(agent.command.empty());  // a session
  ASSERT_EQ(agent.links.size(), 2u);
  EXPECT_EQ(agent.links[0].target, "vectordb");
  EXPECT_EQ(agent.links[0].port, 5432);
  EXPECT_EQ(stack->sandboxes[0].workspace, "/srv/rag/data/pg");
  EXPECT_EQ(*stack->sandboxes[0].policy, "/etc/airlock/vectordb.yaml");
  EXPECT_EQ(*stack->sandboxes[1].profile, "default");
  EXPECT_EQ(stack->control_name("agent"), "stack.agent");
}

TEST(StackFileTest, NameComesFromTheFileOrTheFileName) {
  Result<Stack> named = load("version: 1\nname: rag\nsandboxes:\n  a:\n    profile: default\n");
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_EQ(named->name, "rag");
  Result<Stack> from_file = load_stack_text("version: 1\nsandboxes:\n  a:\n    profile: default\n",
                                            "/x/my.stack.yaml", "/x");
  ASSERT_TRUE(from_file) << from_file.error().message;
  EXPECT_EQ(from_file->name, "my-stack");
}

TEST(StackFileTest, LinkToAMissingSandboxIsRefusedAtTheLink) {
  EXPECT_EQ(error_of("version: 1\nsandboxes:\n  agent:\n    profile: default\n"
                     "    links: [vectordb:5432]\n"),
            "stack.yaml:5:13: link to 'vectordb', which is not a sandbox of this stack");
}

TEST(StackFileTest, CycleIsRefusedAndNamed) {
  const std::string message = error_of(
      "version: 1\nsandboxes:\n  a:\n    profile: default\n    links: [b:1]\n"
      "  b:\n    profile: default\n    links: [a:2]\n");
  EXPECT_EQ(message,
            "stack.yaml:8:13: links form a cycle: a -> b -> a (each would wait for the other to "
            "start)");
}

TEST(StackFileTest, SelfLinkAndDuplicateLinkAreRefused) {
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    profile: default\n    links: [a:1]\n")
                .find("stack.yaml:5:13: sandbox 'a' links to itself"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    profile: default\n    links: [b:1, b:1]\n"
                     "  b:\n    profile: default\n")
                .find("stack.yaml:5:18: link b:1 is listed twice"),
            std::string::npos);
}

TEST(StackFileTest, BadLinksAndNamesAreRefusedWithTheirPlace) {
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    profile: default\n    links: [b]\n"
                     "  b:\n    profile: default\n")
                .find("stack.yaml:5:13: link 'b': write SANDBOX:PORT"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    profile: default\n    links: [b:70000]\n"
                     "  b:\n    profile: default\n")
                .find("stack.yaml:5:13:"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  Vector_DB:\n    profile: default\n")
                .find("stack.yaml:3:3: sandbox name 'Vector_DB'"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    profile: default\n    volumes: [x]\n")
                .find("stack.yaml:5:5:"),
            std::string::npos);
}

TEST(StackFileTest, PolicyOrProfileIsRequiredButNotBoth) {
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    command: [true]\n")
                .find("stack.yaml:4:5: sandbox 'a' needs 'policy: FILE' or 'profile: NAME'"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    policy: p.yaml\n    profile: default\n")
                .find("has both 'policy' and 'profile'"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    profile: default\n    command: []\n")
                .find("stack.yaml:5:14: an empty command"),
            std::string::npos);
}

TEST(StackFileTest, SharedOrNestedWorkspacesAreRefused) {
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    profile: default\n    workspace: w\n"
                     "  b:\n    profile: default\n    workspace: ./w/\n")
                .find("sandboxes 'b' and 'a' would share files: workspace /srv/rag/w is "
                      "/srv/rag/w"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nsandboxes:\n  a:\n    profile: default\n    workspace: w\n"
                     "  b:\n    profile: default\n    workspace: w/inner\n")
                .find("workspace /srv/rag/w/inner is inside /srv/rag/w"),
            std::string::npos);
}

TEST(StackFileTest, MissingVersionEmptyAndBadYamlAreRefused) {
  EXPECT_NE(error_of("sandboxes:\n  a:\n    profile: default\n").find("missing 'version: 1'"),
            std::string::npos);
  EXPECT_NE(error_of("").find("stack.yaml:1:1: the stack file is empty"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nsandboxes: [a\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nsandboxes: {}\n").find("'sandboxes:' must map"),
            std::string::npos);
}

}  // namespace
}  // namespace airlock::stack
