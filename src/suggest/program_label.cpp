#include "suggest/program_label.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

namespace airlock::suggest {
namespace {

struct Invocation {
  std::string exe;
  std::vector<std::string> argv;
};

Invocation invocation_of(const nlohmann::json& process) {
  Invocation invocation;
  if (!process.is_object()) return invocation;
  if (process.contains("exe") && process["exe"].is_string()) invocation.exe = process["exe"];
  if (process.contains("argv") && process["argv"].is_array()) {
    for (const nlohmann::json& argument : process["argv"]) {
      if (argument.is_string()) invocation.argv.push_back(argument.get<std::string>());
    }
  }
  // A program that set its title (node does: "npm install") leaves one argument with spaces,
  // and the rest of the original argument area as empty strings.
  while (invocation.argv.size() > 1 && invocation.argv.back().empty()) invocation.argv.pop_back();
  if (invocation.argv.size() == 1 && invocation.argv[0].find(' ') != std::string::npos) {
    std::string title = invocation.argv[0];
    invocation.argv.clear();
    for (size_t start = 0; start < title.size();) {
      size_t space = title.find(' ', start);
      if (space == std::string::npos) space = title.size();
      if (space > start) invocation.argv.push_back(title.substr(start, space - start));
      start = space + 1;
    }
  }
  return invocation;
}

std::string basename_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// python3.11 -> python, nodejs -> node: what the interpreter is, not which build.
bool is_interpreter(const std::string& name) {
  static const std::vector<std::string> kInterpreters = {"python", "node", "nodejs", "perl",
                                                         "ruby",   "sh",   "bash",   "dash"};
  std::string stem = name;
  while (!stem.empty() &&
         (std::isdigit(static_cast<unsigned char>(stem.back())) != 0 || stem.back() == '.')) {
    stem.pop_back();
  }
  return std::find(kInterpreters.begin(), kInterpreters.end(), stem) != kInterpreters.end();
}

// "clone", "install", "download": a lower-case word, not a path, URL, host or file name.
bool looks_like_subcommand(const std::string& argument) {
  if (argument.empty() || argument.size() > 24) return false;
  if (std::islower(static_cast<unsigned char>(argument.front())) == 0) return false;
  return std::all_of(argument.begin(), argument.end(), [](unsigned char c) {
    return std::islower(c) != 0 || std::isdigit(c) != 0 || c == '-';
  });
}

struct Program {
  std::string name;
  std::optional<std::string> subcommand;
};

// The program's own name and its subcommand: the script an interpreter runs counts as the
// program ("python3 /usr/bin/pip download" is pip, "python3 -m pip download" too).
Program program_of(const Invocation& invocation) {
  Program program;
  program.name = basename_of(!invocation.exe.empty()   ? invocation.exe
                             : invocation.argv.empty() ? std::string()
                                                       : invocation.argv[0]);
  size_t next = 1;
  // Title-setting programs (npm) show their own name in argv[0] while exe is the interpreter.
  if (!invocation.argv.empty() && is_interpreter(program.name) &&
      !is_interpreter(basename_of(invocation.argv[0])) && !invocation.argv[0].empty()) {
    program.name = basename_of(invocation.argv[0]);
  } else if (is_interpreter(program.name)) {
    if (invocation.argv.size() > 2 && invocation.argv[1] == "-m") {
      program.name = invocation.argv[2];
      next = 3;
    } else if (invocation.argv.size() > 1 && invocation.argv[1].find('/') != std::string::npos) {
      program.name = basename_of(invocation.argv[1]);
      next = 2;
    }
  }
  // Only the argument right after the program: after an option it could be the option's value
  // ("curl -o out URL"), which no heuristic can tell from a subcommand.
  if (invocation.argv.size() > next && looks_like_subcommand(invocation.argv[next])) {
    program.subcommand = invocation.argv[next];
  }
  return program;
}

// Labels go into YAML comments and a table: one line, printable, short.
std::string printable(const std::string& text) {
  constexpr size_t kMaxLength = 48;
  std::string out;
  for (unsigned char c : text.substr(0, kMaxLength)) out += std::isprint(c) != 0 ? char(c) : '?';
  return out;
}

std::string label_of(const Program& program) {
  if (program.name.empty()) return "unknown program";
  const std::string name = printable(program.name);
  return program.subcommand ? name + " (" + *program.subcommand + ")" : name;
}

// A helper another program runs for one job: git-remote-https under git, or anything from a
// libexec directory (/usr/lib/git-core counts: git's libexec).
bool is_helper(const Invocation& invocation, const std::string& name, const std::string& parent) {
  if (!parent.empty() && name.size() > parent.size() + 1 && name.starts_with(parent + "-"))
    return true;
  return invocation.exe.find("/libexec/") != std::string::npos ||
         invocation.exe.find("/git-core/") != std::string::npos;
}

}  // namespace

std::string program_label(const nlohmann::json& process) {
  const Invocation self = invocation_of(process);
  Program program = program_of(self);
  if (!process.is_object() || !process.contains("parents") || !process["parents"].is_array()) {
    return label_of(program);
  }
  // Walk up while the program is a helper: its nearest parent says what the user ran.
  Invocation current = self;
  for (const nlohmann::json& parent_json : process["parents"]) {
    const Invocation parent = invocation_of(parent_json);
    const Program parent_program = program_of(parent);
    // A shell says less than the helper it started.
    const bool shell = parent_program.name == "sh" || parent_program.name == "bash" ||
                       parent_program.name == "dash";
    if (parent_program.name.empty() || shell ||
        !is_helper(current, program.name, parent_program.name)) {
      break;
    }
    program = parent_program;
    current = parent;
  }
  return label_of(program);
}

}  // namespace airlock::suggest
