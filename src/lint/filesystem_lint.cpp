// Filesystem rules: writable paths holding files that run later, outside the sandbox (shell
// startup files, git hooks and config), and `extends` that drops the default's protections.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "lint/lint_rules.h"
#include "policy/default_policy.h"

namespace airlock::lint {
namespace {

// Files in a home directory that a shell or git runs or obeys the next time the user works
// there: an agent that can write them runs code outside the sandbox. (.git/hooks inside the
// workspace are protected by `protect:`; these live outside it.)
constexpr std::array<std::string_view, 12> kHomeStartupFiles = {
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile",   ".zshrc",
    ".zshenv", ".zprofile",     ".zlogin",     ".config/fish", ".gitconfig", ".config/git"};

// `path` is `ancestor` or lies below it ("~" contains "~/.bashrc").
bool contains(const std::string& ancestor, const std::string& path) {
  if (ancestor == "/") return path.front() == '/';
  return path == ancestor || path.rfind(ancestor + "/", 0) == 0;
}

bool is_home_directory(const std::string& path) {
  if (path == "~" || path == "/" || path == "/home" || path == "/root") return true;
  // /home/NAME: a user's home by convention.
  return path.rfind("/home/", 0) == 0 && path.find('/', 6) == std::string::npos;
}

bool hidden(const policy::Policy& policy, const std::string& path) {
  return std::any_of(policy.filesystem.hidden.begin(), policy.filesystem.hidden.end(),
                     [&](const policy::PathEntry& entry) { return contains(entry.path, path); });
}

// What under `path` runs later: the home startup files it holds, or its git hooks/config.
std::vector<std::string> startup_files_in(const policy::Policy& policy, const std::string& path) {
  std::vector<std::string> found;
  if (is_home_directory(path)) {
    for (std::string_view file : kHomeStartupFiles) {
      const std::string in_home = "~/" + std::string(file);
      if (!hidden(policy, in_home)) found.push_back(in_home);
    }
    return found;
  }
  for (std::string_view file : kHomeStartupFiles) {
    const std::string in_home = "~/" + std::string(file);
    if (contains(path, in_home) || contains(in_home, path)) found.push_back(in_home);
  }
  // A repository's .git, its hooks or its config (core.hooksPath, core.fsmonitor run programs).
  for (std::string_view git : {"/.git", "/.git/hooks", "/.git/config"}) {
    if (path.ends_with(git) || path.find("/.git/hooks/") != std::string::npos) {
      found.push_back(path);
      break;
    }
  }
  return found;
}

void lint_writable_startup_files(const LintContext& context, Findings& findings) {
  const policy::Policy& policy = context.policy;
  for (const policy::PathEntry& entry : policy.filesystem.read_write) {
    // The workspace itself is covered by `protect:` (see policy.extends-drops-default).
    if (entry.path == policy.workspace) continue;
    const std::vector<std::string> files = startup_files_in(policy, entry.path);
    if (files.empty()) continue;
    findings.push_back(
        {"filesystem.writable-startup-files", Severity::error, entry.where,
         fmt::format("read_write '{}' lets the sandbox write {}: code that runs later, outside "
                     "the sandbox, as you",
                     entry.path, fmt::join(files, ", ")),
         "make only the directories the program needs writable (e.g. ~/.cache/TOOL), or add "
         "these files to hidden:"});
  }
}

// Default entries `list` lacks (an entry counts when it or a directory above it is listed).
std::vector<std::string> missing(const std::vector<policy::PathEntry>& defaults,
                                 const std::vector<policy::PathEntry>& list) {
  std::vector<std::string> absent;
  for (const policy::PathEntry& wanted : defaults) {
    const bool present = std::any_of(list.begin(), list.end(), [&](const policy::PathEntry& e) {
      return contains(e.path, wanted.path);
    });
    if (!present) absent.push_back(wanted.path);
  }
  return absent;
}

void lint_extends(const LintContext& context, Findings& findings) {
  const policy::Policy& policy = context.policy;
  if (std::find(policy.extends.begin(), policy.extends.end(), "default") != policy.extends.end())
    return;
  const policy::Policy defaults = policy::compiled_default_policy();
  const std::vector<std::string> hidden_lost =
      missing(defaults.filesystem.hidden, policy.filesystem.hidden);
  const std::vector<std::string> protect_lost =
      missing(defaults.filesystem.protect, policy.filesystem.protect);
  if (hidden_lost.empty() && protect_lost.empty()) return;
  std::string lost;
  if (!hidden_lost.empty()) lost = fmt::format("hidden {}", fmt::join(hidden_lost, " "));
  if (!protect_lost.empty()) {
    lost += fmt::format("{}protected {}", lost.empty() ? "" : "; ", fmt::join(protect_lost, " "));
  }
  findings.push_back(
      {"policy.extends-drops-default", Severity::warning,
       context.in_policy_file(policy.extends_where),
       fmt::format("extends leaves out the default profile, so the sandbox loses what it hides "
                   "and protects: {}",
                   lost),
       "write extends: [default] (lists add to the default's), or copy these entries into "
       "filesystem.hidden and filesystem.protect"});
}

}  // namespace

void lint_filesystem(const LintContext& context, Findings& findings) {
  lint_writable_startup_files(context, findings);
  lint_extends(context, findings);
}

}  // namespace airlock::lint
