// One function per subcommand; each returns the process exit code. Argument parsing only
// lives in main.cpp; the work lives in policy/, sandbox/ and supervisor/.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace airlock::cli {

struct RunArguments {
  std::optional<std::string> policy_file;
  std::optional<std::string> profile;
  std::optional<std::string> workspace;
  std::optional<std::string> audit_path;
  bool verbose = false;
  bool allow_degraded = false;
  std::vector<std::string> allow;  // --allow HOST:PORT, added to the policy's allowlist
  std::optional<std::string> dns_upstream;
  std::vector<std::string> credentials;  // --credential NAME=HOST[,HOST...]
  std::vector<std::string> command;
};

int run_command(const RunArguments& arguments);

struct CheckArguments {
  std::string policy_file;
  bool json = false;
};

int check_command(const CheckArguments& arguments);

int profiles_command();

}  // namespace airlock::cli
