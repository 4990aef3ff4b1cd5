#include "stack/stack_file.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/file_io.h"
#include "policy/yaml_cursor.h"
#include "policy/yaml_documents.h"

namespace airlock::stack {
namespace {

using policy::LoadFailure;
using policy::SourceLocation;
using policy::YamlCursor;

// A sandbox name is also the host name its linkers use: one DNS label, lower case.
bool valid_sandbox_name(const std::string& name) {
  if (name.empty() || name.size() > 32 || name.front() < 'a' || name.front() > 'z' ||
      name.back() == '-') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool valid_stack_name(const std::string& name) {
  if (name.empty() || name.size() > 30 || name.front() == '.' || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// The stack's name when the file gives none: its file name without .yaml / .yml, made valid.
std::string default_stack_name(const std::string& file_name) {
  std::string stem = std::filesystem::path(file_name).stem().string();
  for (char& c : stem) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!allowed) c = '-';
  }
  if (stem.size() > 30) stem.resize(30);
  if (!valid_stack_name(stem)) stem = "stack";
  return stem;
}

std::string absolute_from(const std::string& base_directory, const std::string& path) {
  std::filesystem::path joined = std::filesystem::path(path).is_absolute()
                                     ? std::filesystem::path(path)
                                     : std::filesystem::path(base_directory) / path;
  std::string normal = std::filesystem::weakly_canonical(joined).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();  // "w/" is "w"
  return normal;
}

// Is `inner` the same directory as `outer`, or below it?
bool same_or_below(const std::string& inner, const std::string& outer) {
  if (inner == outer) return true;
  const std::string prefix = outer.back() == '/' ? outer : outer + "/";
  return inner.rfind(prefix, 0) == 0;
}

class StackBuilder {
 public:
  StackBuilder(const YamlCursor& yaml, std::string base_directory)
      : yaml_(yaml), base_(std::move(base_directory)) {}

  Stack build(const YAML::Node& root) {
    Stack stack;
    stack.file = yaml_.file();
    stack.name = default_stack_name(yaml_.file());
    bool saw_version = false;
    YAML::Node sandboxes;
    yaml_.for_each_key(root, "stack file", {"version", "name", "sandboxes"},
                       [&](const std::string& key, const YAML::Node& value) {
                         if (key == "version") {
                           yaml_.unsigned_integer(value, "version", 1, 1);
                           saw_version = true;
                         } else if (key == "name") {
                           stack.name = yaml_.string(value, "name");
                           if (!valid_stack_name(stack.name)) {
                             yaml_.fail(value,
                                        "name '" + stack.name +
                                            "': 1 to 30 of A-Z a-z 0-9 _ -, not starting with -");
                           }
                         } else {
                           sandboxes = value;
                         }
                       });
    if (!saw_version) yaml_.fail(root, "missing 'version: 1' at the top");
    if (!sandboxes.IsDefined() || !sandboxes.IsMap() || sandboxes.size() == 0) {
      yaml_.fail(sandboxes.IsDefined() ? sandboxes : root,
                 "'sandboxes:' must map each sandbox's name to its policy, command and links");
    }
    std::vector<StackSandbox> listed;
    std::map<std::string, YAML::Node> nodes;
    for (const auto& entry : sandboxes) {
      const std::string name = yaml_.string(entry.first, "sandbox name");
      if (!valid_sandbox_name(name)) {
        yaml_.fail(entry.first, "sandbox name '" + name +
                                    "': it is also a host name for its linkers, so 1 to 32 "
                                    "of a-z 0-9 -, starting with a letter, not ending with -");
      }
      if (nodes.count(name) != 0) {
        yaml_.fail(entry.first, "sandbox '" + name + "' is defined twice");
      }
      if (stack.control_name(name).size() > 64) {
        yaml_.fail(entry.first, "'" + stack.control_name(name) +
                                    "' (stack.sandbox) is longer than a sandbox name may be "
                                    "(64): shorten the stack's name or this one");
      }
      nodes[name] = entry.first;
      listed.push_back(sandbox(name, entry.second, yaml_.where(entry.first)));
    }
    check_links(listed, nodes);
    check_workspaces(listed, nodes);
    stack.sandboxes = start_order(listed);
    return stack;
  }

 private:
  StackSandbox sandbox(const std::string& name, const YAML::Node& node,
                       const SourceLocation& where) {
    if (!node.IsMap()) yaml_.fail(node, "sandbox '" + name + "' must be a mapping");
    StackSandbox sandbox;
    sandbox.name = name;
    sandbox.where = where;
    const std::string section = "sandbox '" + name + "'";
    yaml_.for_each_key(
        node, section, {"policy", "profile", "workspace", "command", "links"},
        [&](const std::string& key, const YAML::Node& value) {
          if (key == "policy") {
            sandbox.policy = absolute_from(base_, yaml_.string(value, "policy"));
          } else if (key == "profile") {
            sandbox.profile = yaml_.string(value, "profile");
          } else if (key == "workspace") {
            sandbox.workspace = absolute_from(base_, yaml_.string(value, "workspace"));
          } else if (key == "command") {
            sandbox.command = yaml_.string_list(value, "command");
            if (sandbox.command.empty()) {
              yaml_.fail(value, "an empty command: leave 'command' out for a session");
            }
          } else {
            for (const YAML::Node& item : yaml_.sequence(value, "links")) {
              sandbox.links.push_back(link(item));
            }
          }
        });
    if (sandbox.policy && sandbox.profile) {
      yaml_.fail(node, section + " has both 'policy' and 'profile': choose one");
    }
    if (!sandbox.policy && !sandbox.profile) {
      yaml_.fail(node, section + " needs 'policy: FILE' or 'profile: NAME'");
    }
    if (sandbox.workspace.empty()) sandbox.workspace = absolute_from(base_, name);
    return sandbox;
  }

  Link link(const YAML::Node& item) {
    const std::string text = yaml_.string(item, "link");
    const size_t colon = text.rfind(':');
    Link link;
    link.where = yaml_.where(item);
    link.target = colon == std::string::npos ? text : text.substr(0, colon);
    const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
    const bool digits =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    const unsigned long number = digits ? std::stoul(port) : 0;
    if (!digits || number == 0 || number > 65535) {
      yaml_.fail(item, "link '" + text + "': write SANDBOX:PORT, e.g. vectordb:5432");
    }
    link.port = static_cast<uint16_t>(number);
    return link;
  }

  void check_links(const std::vector<StackSandbox>& listed,
                   const std::map<std::string, YAML::Node>& nodes) const {
    for (const StackSandbox& sandbox : listed) {
      std::set<std::pair<std::string, uint16_t>> seen;
      for (const Link& link : sandbox.links) {
        if (nodes.count(link.target) == 0) {
          yaml_.fail_at(link.where,
                        "link to '" + link.target + "', which is not a sandbox of this stack");
        }
        if (link.target == sandbox.name) {
          yaml_.fail_at(link.where, "sandbox '" + sandbox.name +
                                        "' links to itself; its own ports are on its "
                                        "127.0.0.1 already");
        }
        if (!seen.insert({link.target, link.port}).second) {
          yaml_.fail_at(link.where,
                        fmt::format("link {}:{} is listed twice", link.target, link.port));
        }
      }
    }
  }

  void check_workspaces(const std::vector<StackSandbox>& listed,
                        const std::map<std::string, YAML::Node>& nodes) const {
    for (size_t i = 0; i < listed.size(); ++i) {
      for (size_t j = 0; j < listed.size(); ++j) {
        if (i == j || !same_or_below(listed[j].workspace, listed[i].workspace)) continue;
        if (j < i && listed[i].workspace == listed[j].workspace) continue;  // said once
        yaml_.fail(nodes.at(listed[j].name),
                   "sandboxes '" + listed[j].name + "' and '" + listed[i].name +
                       "' would share files: workspace " + listed[j].workspace +
                       (listed[i].workspace == listed[j].workspace ? " is " : " is inside ") +
                       listed[i].workspace + " (each sandbox needs its own)");
      }
    }
  }

  // Dependencies first (depth-first, in file order otherwise); a cycle is named.
  std::vector<StackSandbox> start_order(const std::vector<StackSandbox>& listed) const {
    std::map<std::string, const StackSandbox*> by_name;
    for (const StackSandbox& sandbox : listed) by_name[sandbox.name] = &sandbox;
    std::vector<StackSandbox> order;
    std::set<std::string> done;
    std::vector<std::string> path;
    std::function<void(const StackSandbox&)> visit = [&](const StackSandbox& sandbox) {
      if (done.count(sandbox.name) != 0) return;
      path.push_back(sandbox.name);
      for (const Link& link : sandbox.links) {
        auto on_path = std::find(path.begin(), path.end(), link.target);
        if (on_path != path.end()) {
          std::string cycle;
          for (auto it = on_path; it != path.end(); ++it) cycle += *it + " -> ";
          yaml_.fail_at(link.where, "links form a cycle: " + cycle + link.target +
                                        " (each would wait for the other to start)");
        }
        visit(*by_name.at(link.target));
      }
      path.pop_back();
      done.insert(sandbox.name);
      order.push_back(sandbox);
    };
    for (const StackSandbox& sandbox : listed) visit(sandbox);
    return order;
  }

  const YamlCursor& yaml_;
  std::string base_;
};

}  // namespace

const StackSandbox* Stack::find(const std::string& sandbox) const {
  for (const StackSandbox& entry : sandboxes) {
    if (entry.name == sandbox) return &entry;
  }
  return nullptr;
}

Result<Stack> load_stack_text(const std::string& text, const std::string& file_name,
                              const std::string& base_directory) {
  YamlCursor yaml(file_name);
  try {
    try {
      policy::FirstDocument document = policy::read_first_document(text);
      if (document.second_document) {
        const YAML::Mark& mark = *document.second_document;
        yaml.fail_at(SourceLocation{file_name, mark.line + 1, mark.column + 1},
                     "a second YAML document (after '---') would be ignored; a stack file is "
                     "one document");
      }
      if (!document.root.IsDefined() || document.root.IsNull()) {
        yaml.fail(document.root, "the stack file is empty; start with 'version: 1'");
      }
      if (!document.root.IsMap()) yaml.fail(document.root, "a stack file is a mapping");
      return StackBuilder(yaml, base_directory).build(document.root);
    } catch (const YAML::Exception& failure) {
      SourceLocation where{file_name, failure.mark.line + 1, failure.mark.column + 1};
      if (failure.mark.is_null()) where = SourceLocation{file_name, 1, 1};
      throw LoadFailure(policy::one_line(where.to_string() + ": not valid YAML: " + failure.msg));
    }
  } catch (const LoadFailure& failure) {
    return Error{failure.what()};
  }
}

Result<Stack> load_stack_file(const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text) return text.error();
  const std::string directory =
      std::filesystem::absolute(std::filesystem::path(path)).parent_path().string();
  return load_stack_text(*text, path, directory);
}

}  // namespace airlock::stack
