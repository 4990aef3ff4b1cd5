#include "credentials/secret_environment.h"

#include <array>
#include <cctype>
#include <string>

namespace airlock::credentials {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Names that carry a secret without saying so in their shape (each tool's documented variable).
constexpr std::array<std::string_view, 14> kKnownSecretNames = {"GITHUB_TOKEN",
                                                                "GH_TOKEN",
                                                                "GITLAB_TOKEN",
                                                                "NPM_TOKEN",
                                                                "NODE_AUTH_TOKEN",
                                                                "HF_TOKEN",
                                                                "DATABASE_URL",
                                                                "PGPASSWORD",
                                                                "MYSQL_PWD",
                                                                "SSH_AUTH_SOCK",
                                                                "VAULT_TOKEN",
                                                                "DOCKER_AUTH_CONFIG",
                                                                "GOOGLE_APPLICATION_CREDENTIALS",
                                                                "KUBECONFIG"};

constexpr std::array<std::string_view, 11> kSecretSuffixes = {
    "_KEY",         "_TOKEN", "_SECRET", "_PASSWORD", "_PASSWD", "_PASS",
    "_CREDENTIALS", "_AUTH",  "_PAT",    "_COOKIE",   "_SESSION"};

constexpr std::array<std::string_view, 3> kSecretWords = {"PASSWORD", "SECRET", "PRIVATE_KEY"};

}  // namespace

bool looks_like_secret(std::string_view name) {
  const std::string upper_name = upper(name);
  if (upper_name.rfind("AWS_", 0) == 0) return true;
  for (std::string_view known : kKnownSecretNames) {
    if (upper_name == known) return true;
  }
  for (std::string_view suffix : kSecretSuffixes) {
    if (ends_with(upper_name, suffix)) return true;
  }
  for (std::string_view word : kSecretWords) {
    if (upper_name.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace airlock::credentials
