// A stack file (`airlock up -f stack.yaml`): several sandboxes on one host, each its own security
// domain, connected only by the links it names (`links: [vectordb:5432]`: inside this sandbox,
// the name vectordb and that port lead to the vectordb sandbox's own 127.0.0.1:5432).
//
//   version: 1
//   name: rag                      # optional; default: the file's name without .yaml
//   sandboxes:
//     agent:
//       policy: agent.yaml         # or profile: NAME; relative paths start at the stack file
//       workspace: ./agent         # default: <stack file's directory>/<sandbox name>
//       command: [goose, session]  # optional: without one the sandbox is a session (exec)
//       links: [vectordb:5432]
//     vectordb:
//       policy: vectordb.yaml
//       command: [postgres, -D, ./pgdata, -c, listen_addresses=127.0.0.1]
//
// Errors are FILE:LINE:COL like a policy's; a link to a sandbox that does not exist, a link to
// itself, a cycle and two sandboxes sharing (or nesting) a workspace are refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "policy/policy.h"

namespace airlock::stack {

struct Link {
  std::string target;  // a sandbox of the same stack
  uint16_t port = 0;   // its 127.0.0.1 port, and the port the name leads to here
  policy::SourceLocation where;
};

struct StackSandbox {
  std::string name;                   // the key under sandboxes:
  std::optional<std::string> policy;  // absolute path of a policy file, or
  std::optional<std::string> profile;
  std::string workspace;             // absolute
  std::vector<std::string> command;  // empty: a session
  std::vector<Link> links;
  policy::SourceLocation where;
};

struct Stack {
  std::string name;
  std::string file;
  std::vector<StackSandbox> sandboxes;  // in start order: every link target before its linkers

  // The control name of a sandbox: STACK.SANDBOX (what `ps`, `exec`, `logs` and `stop` take).
  std::string control_name(const std::string& sandbox) const { return name + "." + sandbox; }
  const StackSandbox* find(const std::string& sandbox) const;
};

Result<Stack> load_stack_text(const std::string& text, const std::string& file_name,
                              const std::string& base_directory);
Result<Stack> load_stack_file(const std::string& path);

}  // namespace airlock::stack
