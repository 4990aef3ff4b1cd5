// `airlock up` and `airlock down`: the sandboxes of a stack file (stack/stack_file.h), each a
// detached sandbox of its own (like `session start`, or a run in the background when it has a
// command), wired by its links (publish/publish_server.h serves both ends).
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/errno_text.h"
#include "common/file_io.h"
#include "control/control_client.h"
#include "control/control_directory.h"
#include "stack/stack_file.h"
#include "supervisor/supervisor.h"

namespace airlock::cli {
namespace {

constexpr uint64_t kDefaultWaitMs = uint64_t{60} * 1000;
constexpr uint64_t kDefaultGraceMs = uint64_t{10} * 1000;

// Where a linked sandbox's name leads inside its linkers: 127.100.0.N, N its place in the
// stack's start order (the same address in every linker; nothing else uses 127.100.0.0/16).
std::string link_address(size_t index) {
  return fmt::format("127.100.{}.{}", (index + 1) / 256, (index + 1) % 256);
}

std::string output_path(const std::string& directory, const std::string& name) {
  return directory + "/" + name + ".output";
}

// The last lines of a sandbox's output file, indented, for an error that says why it stopped.
std::string output_tail(const std::string& path, size_t lines) {
  Result<std::string> text = read_file(path);
  if (!text || text->empty()) return "";
  std::vector<std::string> kept;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    kept.push_back(text->substr(start, end - start));
    start = end + 1;
  }
  std::string tail;
  for (size_t i = kept.size() > lines ? kept.size() - lines : 0; i < kept.size(); ++i)
    tail += "  | " + kept[i] + "\n";
  return tail;
}

struct SandboxWiring {
  std::vector<publish::PublishTarget> links;  // both ends
  std::vector<uint16_t> linked_ports;         // ports others link to: up waits for them
};

std::map<std::string, SandboxWiring> wire(const stack::Stack& stack, const std::string& directory) {
  std::map<std::string, SandboxWiring> wiring;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < stack.sandboxes.size(); ++i) index[stack.sandboxes[i].name] = i;
  for (const stack::StackSandbox& sandbox : stack.sandboxes) {
    SandboxWiring& from = wiring[sandbox.name];
    for (const stack::Link& link : sandbox.links) {
      const std::string address = link_address(index.at(link.target));
      publish::PublishTarget out;
      out.kind = publish::CrossingKind::link_out;
      out.link_from = stack.control_name(sandbox.name);
      out.link_to = stack.control_name(link.target);
      out.link_name = link.target;
      out.link_address = address;
      out.rule.port = link.port;
      out.rule.unix_path =
          publish::link_socket_path(directory, out.link_to, out.link_from, link.port);
      out.rule.where = link.where;
      publish::PublishTarget in = out;
      in.kind = publish::CrossingKind::link_in;
      in.rule.mode = 0600;  // the owner's supervisors (and root) only
      from.links.push_back(out);
      SandboxWiring& to = wiring[link.target];
      to.links.push_back(in);
      to.linked_ports.push_back(link.port);
    }
  }
  return wiring;
}

bool listens_on(const nlohmann::json& info, uint16_t port) {
  if (!info.contains("listening")) return false;
  for (const nlohmann::json& entry : info["listening"]) {
    const std::string address = entry.value("address", "");
    // What the link reaches is 127.0.0.1:PORT; a wildcard socket accepts that too.
    if (entry.value("port", 0) == port &&
        (address == "127.0.0.1" || address == "0.0.0.0" || address == "::")) {
      return true;
    }
  }
  return false;
}

// Until every linked port of `name` listens inside it; an Error when it ends or time runs out.
Status wait_until_listening(const std::string& name, const std::vector<uint16_t>& ports,
                            uint64_t wait_ms) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    Result<nlohmann::json> info = control::request_once(name, {{"op", "info"}});
    if (!info) return Error{name + " ended before it listened on its linked ports"};
    std::vector<uint16_t> missing;
    for (uint16_t port : ports) {
      if (!listens_on(*info, port)) missing.push_back(port);
    }
    if (missing.empty()) return ok_status();
    if (std::chrono::steady_clock::now() >= give_up) {
      return Error{
          fmt::format("{} does not listen on 127.0.0.1:{} after {} ms (what links to "
                      "it needs that port; --wait gives it longer)",
                      name, fmt::join(missing, ", "), wait_ms)};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status make_workspace(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return Error{"cannot create workspace " + path + ": " + error.message()};
  return ok_status();
}

}  // namespace

int up_command(const StackArguments& arguments) {
  Result<stack::Stack> loaded = stack::load_stack_file(arguments.file);
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return supervisor::kExitBadInput;
  }
  const stack::Stack& stack = *loaded;
  Result<uint64_t> wait_ms = duration_option(arguments.wait, "--wait", kDefaultWaitMs);
  if (!wait_ms) {
    fmt::print(stderr, "airlock: {}\n", wait_ms.error().message);
    return supervisor::kExitBadInput;
  }
  Result<std::string> directory = control::ensure_control_directory();
  if (!directory) {
    fmt::print(stderr, "airlock: {}\n", directory.error().message);
    return 1;
  }
  for (const stack::StackSandbox& sandbox : stack.sandboxes) {
    if (control::connect_to_sandbox(stack.control_name(sandbox.name))) {
      fmt::print(stderr, "airlock: {} is running already: airlock down -f {} first\n",
                 stack.control_name(sandbox.name), arguments.file);
      return 1;
    }
  }
  std::map<std::string, SandboxWiring> wiring = wire(stack, *directory);

  std::vector<std::string> started;
  auto undo = [&started] {
    for (auto it = started.rbegin(); it != started.rend(); ++it) {
      if (Status stopped = stop_and_wait(*it, kDefaultGraceMs); !stopped)
        fmt::print(stderr, "airlock: {}\n", stopped.error().message);
    }
  };
  for (const stack::StackSandbox& sandbox : stack.sandboxes) {
    const std::string name = stack.control_name(sandbox.name);
    if (Status made = make_workspace(sandbox.workspace); !made) {
      fmt::print(stderr, "airlock: {}\n", made.error().message);
      undo();
      return 1;
    }
    RunArguments run;
    run.policy_file = sandbox.policy;
    run.profile = sandbox.profile;
    run.workspace = sandbox.workspace;
    run.audit_path = arguments.audit_path;
    run.name = name;
    run.detached = true;
    run.output_path = output_path(*directory, name);
    run.links = wiring[sandbox.name].links;
    if (sandbox.command.empty()) {
      run.session = true;
      run.command = {"airlock-session"};  // what the launch plan wants; a session runs nothing
    } else {
      run.command = sandbox.command;
    }
    const int status = run_command(run);
    if (status != 0) {
      fmt::print(stderr, "airlock: up: {} did not start (exit {}); its output, {}:\n{}", name,
                 status, *run.output_path, output_tail(*run.output_path, 12));
      undo();
      return status;
    }
    started.push_back(name);
    const std::vector<uint16_t>& ports = wiring[sandbox.name].linked_ports;
    if (ports.empty()) continue;
    if (Status listening = wait_until_listening(name, ports, *wait_ms); !listening) {
      fmt::print(stderr, "airlock: up: {}; its output, {}:\n{}", listening.error().message,
                 *run.output_path, output_tail(*run.output_path, 12));
      undo();
      return 1;
    }
  }
  fmt::print(stderr,
             "airlock: stack {} is up ({} sandboxes); airlock ps lists them, airlock "
             "down -f {} stops them\n",
             stack.name, stack.sandboxes.size(), arguments.file);
  return 0;
}

int down_command(const StackArguments& arguments) {
  Result<stack::Stack> loaded = stack::load_stack_file(arguments.file);
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return supervisor::kExitBadInput;
  }
  Result<uint64_t> grace_ms = duration_option(arguments.grace, "--grace", kDefaultGraceMs);
  if (!grace_ms) {
    fmt::print(stderr, "airlock: {}\n", grace_ms.error().message);
    return supervisor::kExitBadInput;
  }
  int status = 0;
  // Linkers first: what they link to stays up until nothing uses it.
  for (auto it = loaded->sandboxes.rbegin(); it != loaded->sandboxes.rend(); ++it) {
    const std::string name = loaded->control_name(it->name);
    if (!control::connect_to_sandbox(name)) continue;  // not running
    if (Status stopped = stop_and_wait(name, *grace_ms); !stopped) {
      fmt::print(stderr, "airlock: {}\n", stopped.error().message);
      status = 1;
      continue;
    }
    fmt::print("{}\n", name);
  }
  return status;
}

}  // namespace airlock::cli
