#include "policy/policy_loader.h"

#include <seccomp.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/file_io.h"
#include "policy/network_rule.h"
#include "policy/profiles.h"
#include "policy/yaml_cursor.h"
#include "policy/yaml_documents.h"
#include "seccomp/exec_minimum.h"

namespace airlock::policy {
namespace {

// Checked by hand rather than with std::regex: compiling "[A-Za-z0-9][A-Za-z0-9._-]{0,63}" built
// an automaton of 64 copies at every start, a fifth of the supervisor's instructions (callgrind).
bool is_identity_name(std::string_view name) {
  constexpr size_t kMaxNameLength = 64;
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter_or_digit =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    const bool punctuation = c == '.' || c == '_' || c == '-';
    if (!(letter_or_digit || (i > 0 && punctuation))) return false;
  }
  return true;
}

// "0?[0-7]{3}": three octal digits, optionally after a leading 0.
bool is_octal_mode(std::string_view text) {
  if (text.size() == 4 && text.front() == '0') text.remove_prefix(1);
  return text.size() == 3 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
}

constexpr int kMaxExtendsDepth = 8;

// Normalises "a//b/./c/" to "a/b/c" and rejects ".." so a path means what it looks like.
std::string clean_path(const YamlCursor& yaml, const YAML::Node& node, const std::string& raw) {
  bool absolute = raw.front() == '/';
  std::string out = absolute ? "/" : "";
  size_t start = 0;
  while (start <= raw.size()) {
    size_t slash = raw.find('/', start);
    if (slash == std::string::npos) slash = raw.size();
    std::string part = raw.substr(start, slash - start);
    if (part == "..")
      yaml.fail(node, "path '" + raw + "' must not contain '..'; write it directly");
    if (!part.empty() && part != ".") {
      if (!out.empty() && out.back() != '/') out += '/';
      out += part;
    }
    start = slash + 1;
  }
  return out.empty() ? "." : out;
}

PathEntry host_path(const YamlCursor& yaml, const YAML::Node& node, const std::string& what) {
  std::string raw = yaml.string(node, what);
  if (raw.front() != '/' && raw != "~" && raw.rfind("~/", 0) != 0) {
    yaml.fail(node, what + " '" + raw + "' must be absolute (/...) or start with ~/");
  }
  return PathEntry{clean_path(yaml, node, raw), yaml.where(node)};
}

PathEntry workspace_relative_path(const YamlCursor& yaml, const YAML::Node& node,
                                  const std::string& what) {
  std::string raw = yaml.string(node, what);
  if (raw.front() == '/' || raw.front() == '~') {
    yaml.fail(node, what + " '" + raw + "' must be relative to the workspace, e.g. .git/hooks");
  }
  std::string cleaned = clean_path(yaml, node, raw);
  if (cleaned == ".") yaml.fail(node, what + " must name a path inside the workspace, not '.'");
  return PathEntry{cleaned, yaml.where(node)};
}

// A read_write entry: a path, or {path: P, create: directory|file} for one airlock may create.
PathEntry read_write_path(const YamlCursor& yaml, const YAML::Node& node) {
  if (!node.IsMap()) return host_path(yaml, node, "read_write entry");
  PathEntry entry;
  bool has_path = false;
  yaml.for_each_key(
      node, "read_write entry", {"path", "create"},
      [&](const std::string& key, const YAML::Node& value) {
        if (key == "path") {
          CreateMissing create = entry.create;
          entry = host_path(yaml, value, "read_write path");
          entry.create = create;
          has_path = true;
        } else {
          std::string kind = yaml.string(value, "read_write create");
          if (kind == "directory") {
            entry.create = CreateMissing::directory;
          } else if (kind == "file") {
            entry.create = CreateMissing::file;
          } else {
            yaml.fail(value, "read_write create must be directory or file; got '" + kind + "'");
          }
        }
      });
  if (!has_path) yaml.fail(node, "read_write entry needs path: (and optionally create:)");
  return entry;
}

// A credential's host: a plain name (no wildcard, no address), normalised like a rule's host.
std::string credential_host(const YamlCursor& yaml, const YAML::Node& node, uint16_t* port) {
  std::string text = yaml.string(node, "credential host");
  const bool with_port = port != nullptr;
  NetworkRuleParse parsed = parse_network_rule(with_port ? text : text + ":443");
  if (!parsed.rule) yaml.fail(node, parsed.problem);
  const std::string& host = parsed.rule->host;
  const bool is_name = host.find_first_not_of("0123456789.") != std::string::npos &&
                       host.find(':') == std::string::npos && host.find('/') == std::string::npos;
  if (host.rfind("*.", 0) == 0 || !is_name) {
    yaml.fail(node, "credential host '" + text +
                        "' must be one exact name (no wildcard, no IP address): the real value "
                        "is used only where the name is verified by TLS");
  }
  if (with_port) *port = parsed.rule->port;
  return host;
}

void append_paths(const YamlCursor& yaml, const YAML::Node& node, const std::string& what,
                  bool relative, std::vector<PathEntry>& into) {
  for (const YAML::Node& item : yaml.sequence(node, what)) {
    into.push_back(relative ? workspace_relative_path(yaml, item, what + " entry")
                            : host_path(yaml, item, what + " entry"));
  }
}

std::vector<std::string> syscall_names(const YamlCursor& yaml, const YAML::Node& node,
                                       const std::string& what) {
  std::vector<std::string> names;
  for (const YAML::Node& item : yaml.sequence(node, what)) {
    std::string name = yaml.string(item, what + " entry");
    if (seccomp_syscall_resolve_name(name.c_str()) == __NR_SCMP_ERROR) {
      yaml.fail(item, "'" + name + "' is not a syscall name known on x86_64 (see syscalls(2))");
    }
    names.push_back(name);
  }
  return names;
}

void apply_network_rules(const YamlCursor& yaml, const YAML::Node& node, const std::string& what,
                         std::vector<NetworkRule>& into) {
  for (const YAML::Node& item : yaml.sequence(node, what)) {
    NetworkRuleParse parsed = parse_network_rule(yaml.string(item, what + " entry"));
    if (!parsed.rule) yaml.fail(item, parsed.problem);
    NetworkRule rule = *parsed.rule;
    rule.where = yaml.where(item);
    into.push_back(rule);
  }
}

NetworkMode network_mode(const YamlCursor& yaml, const YAML::Node& node) {
  std::string mode = yaml.string(node, "network mode");
  if (mode == "deny_all") return NetworkMode::deny_all;
  if (mode == "allowlist") return NetworkMode::allowlist;
  if (mode == "observe") return NetworkMode::observe;
  yaml.fail(node, "network mode '" + mode + "' is unknown; write deny_all, allowlist or observe");
}

// "IP" or "IP:PORT" ("[v6]:PORT"): the resolver the proxy asks for allowed names.
std::string dns_upstream(const YamlCursor& yaml, const YAML::Node& node) {
  std::string text = yaml.string(node, "network dns_upstream");
  if (!valid_dns_upstream(text)) {
    yaml.fail(node, "network dns_upstream '" + text +
                        "' is not an IP address with an optional port; write e.g. 127.0.0.1:5353 "
                        "or [::1]:53");
  }
  return text;
}

std::string unix_socket_path(const YamlCursor& yaml, const YAML::Node& node,
                             const std::string& what) {
  std::string raw = yaml.string(node, what);
  const std::string scheme = "unix://";
  if (raw.rfind(scheme, 0) == 0) raw = raw.substr(scheme.size());
  if (raw.empty() || raw.front() != '/') {
    yaml.fail(node, what + " must be an absolute socket path such as unix:///run/agent.sock");
  }
  return clean_path(yaml, node, raw);
}

// Where an agent's API is published on the host: a Unix socket, never a TCP port (anything on
// the host, any user and any container, could reach a TCP port; a socket has a mode and a peer).
std::string published_socket_path(const YamlCursor& yaml, const YAML::Node& node,
                                  const std::string& what) {
  const std::string raw = yaml.string(node, what);
  const bool unix_form = raw.rfind("unix://", 0) == 0 || raw.rfind('/', 0) == 0;
  if (!unix_form && raw.find(':') != std::string::npos) {  // tcp://..., host:port, [::1]:port
    yaml.fail(node, what + " '" + raw +
                        "' is a TCP address: airlock never opens a TCP port on the host, which "
                        "every local user and container could reach; write a Unix socket such as "
                        "unix:///run/agent/api.sock (in publish: add port: N when the agent "
                        "listens on 127.0.0.1:N inside)");
  }
  std::string path = unix_socket_path(yaml, node, what);
  // sockaddr_un holds 108 bytes with the terminating NUL.
  if (path.size() > 107) {
    yaml.fail(node, what + " " + path + " is longer than a Unix socket path may be (107 bytes)");
  }
  const std::string directory = path.substr(0, path.rfind('/'));
  if (directory.empty()) yaml.fail(node, what + " must be in a directory, not in /");
  return path;
}

class PolicyBuilder {
 public:
  PolicyBuilder(const YamlCursor& yaml, Policy& policy) : yaml_(yaml), policy_(policy) {}

  void apply_v1(const YAML::Node& root) {
    yaml_.for_each_key(root, "the policy",
                       {"version", "name", "description", "extends", "workspace", "filesystem",
                        "network", "publish", "process", "credentials", "audit"},
                       [&](const std::string& key, const YAML::Node& value) {
                         if (key == "version") {
                           policy_.version =
                               static_cast<int>(yaml_.unsigned_integer(value, "version", 1, 1));
                         } else if (key == "name") {
                           policy_.name = identity_name(value);
                         } else if (key == "description") {
                           policy_.description = yaml_.string(value, "description");
                         } else if (key == "workspace") {
                           std::string raw = yaml_.string(value, "workspace");
                           policy_.workspace = raw.front() == '/' || raw.front() == '~'
                                                   ? host_path(yaml_, value, "workspace").path
                                                   : clean_path(yaml_, value, raw);
                           policy_.workspace_where = yaml_.where(value);
                         } else if (key == "filesystem") {
                           apply_filesystem(value);
                         } else if (key == "network") {
                           apply_network(value);
                         } else if (key == "publish") {
                           apply_publish(value);
                         } else if (key == "process") {
                           apply_process(value);
                         } else if (key == "credentials") {
                           apply_credentials(value);
                         } else if (key == "audit") {
                           yaml_.for_each_key(value, "audit", {"path"},
                                              [&](const std::string&, const YAML::Node& v) {
                                                policy_.audit_path = yaml_.string(v, "audit path");
                                              });
                         }
                         // "extends" was handled before the profiles were merged.
                       });
  }

  // The seed deployment's security_context.yaml: `enforce:` with flat keys.
  void apply_enforce_form(const YAML::Node& root) {
    yaml_.for_each_key(root, "the policy", {"enforce", "name"},
                       [&](const std::string& key, const YAML::Node& value) {
                         if (key == "name") policy_.name = identity_name(value);
                         if (key == "enforce") apply_enforce(value);
                       });
    // Without a name of its own the seed form must not pass for the default profile in audits.
    if (!root["name"].IsDefined()) policy_.name = "security_context";
  }

 private:
  std::string identity_name(const YAML::Node& node) {
    std::string name = yaml_.string(node, "name");
    if (!is_identity_name(name)) {
      yaml_.fail(node, "name '" + name +
                           "' must be 1-64 letters, digits, '.', '_' or '-' (it names the sandbox "
                           "in every audit event)");
    }
    return name;
  }

  void apply_filesystem(const YAML::Node& node) {
    yaml_.for_each_key(node, "filesystem", {"read_only", "read_write", "hidden", "protect"},
                       [&](const std::string& key, const YAML::Node& value) {
                         FilesystemPolicy& fs = policy_.filesystem;
                         if (key == "read_only")
                           append_paths(yaml_, value, key, false, fs.read_only);
                         if (key == "read_write") {
                           for (const YAML::Node& item : yaml_.sequence(value, key))
                             fs.read_write.push_back(read_write_path(yaml_, item));
                         }
                         if (key == "hidden") append_paths(yaml_, value, key, false, fs.hidden);
                         if (key == "protect") append_paths(yaml_, value, key, true, fs.protect);
                       });
  }

  void apply_network(const YAML::Node& node) {
    NetworkPolicy& network = policy_.network;
    yaml_.for_each_key(
        node, "network",
        {"mode", "allow", "deny", "unix_sockets", "internal", "dns_upstream", "max_connections",
         "upstream_ca"},
        [&](const std::string& key, const YAML::Node& value) {
          if (key == "mode") {
            network.mode = network_mode(yaml_, value);
            network.mode_where = yaml_.where(value);
          } else if (key == "allow") {
            apply_network_rules(yaml_, value, "network allow", network.allow);
          } else if (key == "deny") {
            apply_network_rules(yaml_, value, "network deny", network.deny);
          } else if (key == "unix_sockets") {
            for (const YAML::Node& item : yaml_.sequence(value, "unix_sockets")) {
              network.unix_sockets.push_back(PathEntry{
                  unix_socket_path(yaml_, item, "unix_sockets entry"), yaml_.where(item)});
            }
          } else if (key == "internal") {
            std::string choice = yaml_.string(value, "network internal");
            if (choice != "deny" && choice != "allow") {
              yaml_.fail(value, "network internal must be deny or allow; got '" + choice + "'");
            }
            network.deny_internal = choice == "deny";
            network.internal_where = yaml_.where(value);
          } else if (key == "dns_upstream") {
            network.dns_upstream = dns_upstream(yaml_, value);
            network.dns_upstream_where = yaml_.where(value);
          } else if (key == "max_connections") {
            network.max_connections = static_cast<uint32_t>(
                yaml_.unsigned_integer(value, "network max_connections", 1, 1000000));
          } else if (key == "upstream_ca") {
            network.upstream_ca = host_path(yaml_, value, "network upstream_ca").path;
            network.upstream_ca_where = yaml_.where(value);
          }
        });
  }

  void apply_publish(const YAML::Node& node) {
    for (const YAML::Node& item : yaml_.sequence(node, "publish")) {
      PublishRule rule;
      rule.where = yaml_.where(item);
      bool has_socket = false;
      yaml_.for_each_key(item, "publish entry", {"unix", "port", "mode", "uids"},
                         [&](const std::string& key, const YAML::Node& value) {
                           if (key == "unix") {
                             rule.unix_path = published_socket_path(yaml_, value, "publish unix");
                             has_socket = true;
                           } else if (key == "port") {
                             rule.port = static_cast<uint16_t>(
                                 yaml_.unsigned_integer(value, "publish port", 1, 65535));
                           } else if (key == "mode") {
                             rule.mode = file_mode(value);
                           } else if (key == "uids") {
                             for (const YAML::Node& uid : yaml_.sequence(value, "publish uids")) {
                               rule.uids.push_back(static_cast<uint32_t>(
                                   yaml_.unsigned_integer(uid, "publish uid", 0, 4294967294U)));
                             }
                           }
                         });
      if (!has_socket) yaml_.fail(item, "publish entry needs unix: /path/to.sock");
      add_publish(item, rule);
    }
  }

  void add_publish(const YAML::Node& node, const PublishRule& rule) {
    for (const PublishRule& earlier : policy_.publish) {
      if (earlier.unix_path == rule.unix_path) {
        yaml_.fail(node, "publish " + rule.unix_path + " is already published at " +
                             earlier.where.to_string());
      }
      if (rule.port != 0 && earlier.port == rule.port) {
        yaml_.fail(node, "port " + std::to_string(rule.port) + " is already published at " +
                             earlier.where.to_string());
      }
    }
    policy_.publish.push_back(rule);
  }

  uint32_t file_mode(const YAML::Node& node) {
    std::string text = yaml_.string(node, "mode");
    if (!is_octal_mode(text)) {
      yaml_.fail(node,
                 "mode must be octal permissions in quotes, e.g. \"0600\"; got '" + text + "'");
    }
    return static_cast<uint32_t>(std::stoul(text, nullptr, 8));
  }

  void apply_syscalls(const YAML::Node& value, const std::string& what) {
    SyscallPolicy& syscalls = policy_.process.syscalls;
    syscalls.where = yaml_.where(value);
    if (value.IsScalar()) {
      if (value.Scalar() != "default") {
        yaml_.fail(value, what + " must be 'default' or a list of syscall names");
      }
      syscalls.use_default = true;
      syscalls.allow.clear();
      return;
    }
    syscalls.use_default = false;
    syscalls.allow = syscall_names(yaml_, value, what);
  }

  void apply_process(const YAML::Node& node) {
    ProcessPolicy& process = policy_.process;
    process.where = yaml_.where(node);
    yaml_.for_each_key(
        node, "process",
        {"syscalls", "env", "max_memory_mb", "max_pids", "max_open_files", "timeout"},
        [&](const std::string& key, const YAML::Node& value) {
          if (key == "env") {
            apply_environment(value);
          } else if (key == "syscalls") {
            apply_syscalls(value, "process syscalls");
          } else if (key == "max_memory_mb") {
            process.max_memory_mb = yaml_.unsigned_integer(value, key, 16, 1ULL << 30);
            process.max_memory_where = yaml_.where(value);
          } else if (key == "max_pids") {
            process.max_pids =
                static_cast<uint32_t>(yaml_.unsigned_integer(value, key, 8, 4194304));
            process.max_pids_where = yaml_.where(value);
          } else if (key == "max_open_files") {
            process.max_open_files_where = yaml_.where(value);
            process.max_open_files =
                static_cast<uint32_t>(yaml_.unsigned_integer(value, key, 64, 1048576));
          } else if (key == "timeout") {
            process.timeout_seconds = yaml_.duration_seconds(value, "process timeout");
          }
        });
  }

  void apply_environment(const YAML::Node& node) {
    EnvironmentPolicy& env = policy_.process.env;
    yaml_.for_each_key(
        node, "process env", {"pass", "set"}, [&](const std::string& key, const YAML::Node& value) {
          if (key == "pass") {
            for (const YAML::Node& item : yaml_.sequence(value, "process env pass")) {
              env.pass.push_back(variable_name(item, yaml_.string(item, "process env pass entry")));
              env.pass_where.push_back(yaml_.where(item));
            }
            return;
          }
          if (!value.IsMap()) yaml_.fail(value, "process env set must be a mapping of NAME: value");
          for (const auto& pair : value) {
            std::string name = variable_name(pair.first, yaml_.string(pair.first, "variable name"));
            EnvironmentVariable variable{name, yaml_.string(pair.second, "variable value"),
                                         yaml_.where(pair.first)};
            std::erase_if(env.set, [&](const EnvironmentVariable& v) { return v.name == name; });
            env.set.push_back(variable);
          }
        });
  }

  std::string variable_name(const YAML::Node& node, const std::string& name) {
    const bool valid = !name.empty() && (std::isdigit(static_cast<unsigned char>(name[0])) == 0) &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                       });
    if (!valid) {
      yaml_.fail(node, "'" + name + "' is not an environment variable name (letters, digits, _)");
    }
    return name;
  }

  void apply_credentials(const YAML::Node& node) {
    for (const YAML::Node& item : yaml_.sequence(node, "credentials")) {
      CredentialRule rule;
      rule.where = yaml_.where(item);
      yaml_.for_each_key(
          item, "credentials entry",
          {"name", "type", "from", "hosts", "ttl", "max_uses", "optional", "endpoint", "host",
           "cert", "key", "ca"},
          [&](const std::string& key, const YAML::Node& value) {
            if (key == "name") {
              rule.name = variable_name(value, yaml_.string(value, "credential name"));
            } else if (key == "type") {
              std::string type = yaml_.string(value, "credential type");
              if (type != "header" && type != "mtls")
                yaml_.fail(value, "credential type must be header or mtls; got '" + type + "'");
              rule.type = type == "mtls" ? CredentialType::mtls : CredentialType::header;
            } else if (key == "from") {
              rule.from = credential_source(value);
            } else if (key == "hosts") {
              for (const YAML::Node& host : yaml_.sequence(value, "credential hosts"))
                rule.hosts.push_back(credential_host(yaml_, host, nullptr));
            } else if (key == "ttl") {
              rule.ttl_seconds = yaml_.duration_seconds(value, "ttl");
            } else if (key == "max_uses") {
              rule.max_uses = yaml_.unsigned_integer(value, "max_uses", 1, 1ULL << 40);
            } else if (key == "optional") {
              rule.optional = yaml_.boolean(value, "credential optional");
            } else if (key == "endpoint") {
              apply_endpoint(value, rule);
            } else if (key == "host") {
              rule.host = credential_host(yaml_, value, &rule.port);
            } else {  // cert, key, ca
              std::string path = host_path(yaml_, value, "credential " + key).path;
              (key == "cert" ? rule.cert : key == "key" ? rule.key : rule.ca) = path;
            }
          });
      check_credential(item, rule);
      // A later policy's credential of the same name replaces the profile's.
      std::erase_if(policy_.credentials,
                    [&](const CredentialRule& other) { return other.name == rule.name; });
      policy_.credentials.push_back(rule);
    }
  }

  // endpoint: VARIABLE, or {env: VARIABLE, path: /v1}
  void apply_endpoint(const YAML::Node& value, CredentialRule& rule) {
    if (!value.IsMap()) {
      rule.endpoint_variable = variable_name(value, yaml_.string(value, "credential endpoint"));
      return;
    }
    yaml_.for_each_key(value, "credential endpoint", {"env", "path"},
                       [&](const std::string& key, const YAML::Node& part) {
                         if (key == "env") {
                           rule.endpoint_variable =
                               variable_name(part, yaml_.string(part, "endpoint env"));
                           return;
                         }
                         rule.endpoint_path = yaml_.string(part, "endpoint path");
                         if (rule.endpoint_path.front() != '/' ||
                             rule.endpoint_path.find_first_of(" ?#") != std::string::npos) {
                           yaml_.fail(part, "endpoint path must start with / (e.g. /v1)");
                         }
                       });
    if (rule.endpoint_variable.empty()) yaml_.fail(value, "credential endpoint needs env:");
  }

  void check_credential(const YAML::Node& item, const CredentialRule& rule) {
    if (rule.name.empty()) yaml_.fail(item, "credentials entry needs name:");
    if (rule.type == CredentialType::mtls) {
      if (rule.host.empty() || rule.cert.empty() || rule.key.empty() || rule.ca.empty()) {
        yaml_.fail(item, "an mtls credential needs host: NAME:PORT, cert:, key: and ca:");
      }
      if (!rule.from.empty() || !rule.hosts.empty() || !rule.endpoint_variable.empty()) {
        yaml_.fail(item,
                   "an mtls credential takes host:, cert:, key:, ca: (not from:, hosts: or "
                   "endpoint:)");
      }
      return;
    }
    if (rule.from.empty() || rule.hosts.empty()) {
      yaml_.fail(item, "credentials entry needs name:, from: (env:VAR or file:PATH) and hosts:");
    }
    if (!rule.host.empty() || !rule.cert.empty() || !rule.key.empty() || !rule.ca.empty()) {
      yaml_.fail(item, "host:, cert:, key: and ca: belong to a credential of type: mtls");
    }
  }

  std::string credential_source(const YAML::Node& node) {
    std::string from = yaml_.string(node, "credential from");
    if ((from.rfind("env:", 0) != 0 || from.size() == 4) &&
        (from.rfind("file:", 0) != 0 || from.size() == 5)) {
      yaml_.fail(node, "credential from must be env:VARIABLE or file:/path; got '" + from + "'");
    }
    return from;
  }

  void apply_enforce(const YAML::Node& node) {
    yaml_.for_each_key(
        node, "enforce",
        {"network", "bind_address", "allowed_syscalls", "max_memory_mb", "credential_ttl"},
        [&](const std::string& key, const YAML::Node& value) {
          if (key == "network") {
            policy_.network.mode = network_mode(yaml_, value);
            policy_.network.mode_where = yaml_.where(value);
          } else if (key == "bind_address") {
            PublishRule rule;
            rule.unix_path = published_socket_path(yaml_, value, "bind_address");
            rule.where = yaml_.where(value);
            add_publish(value, rule);
          } else if (key == "allowed_syscalls") {
            apply_syscalls(value, "allowed_syscalls");
          } else if (key == "max_memory_mb") {
            policy_.process.max_memory_mb = yaml_.unsigned_integer(value, key, 16, 1ULL << 30);
            policy_.process.max_memory_where = yaml_.where(value);
          } else if (key == "credential_ttl") {
            policy_.credential_ttl_seconds = yaml_.duration_seconds(value, "credential_ttl");
            policy_.credential_ttl_where = yaml_.where(value);
          }
        });
  }

  const YamlCursor& yaml_;
  Policy& policy_;
};

// A syscall allowlist that cannot even start a program is an error naming what is missing.
void check_syscall_allowlist(const YamlCursor& yaml, const Policy& policy) {
  const SyscallPolicy& syscalls = policy.process.syscalls;
  if (syscalls.use_default) return;
  std::set<std::string> allowed(syscalls.allow.begin(), syscalls.allow.end());
  std::string missing;
  for (std::string_view name : seccomp::kExecMinimum) {
    if (allowed.count(std::string(name)) == 0)
      missing += (missing.empty() ? "" : ", ") + std::string(name);
  }
  if (!missing.empty()) {
    yaml.fail_at(syscalls.where,
                 "this syscall allowlist cannot start any program: missing " + missing +
                     "; add them to the list (airlock never widens an allowlist by itself)");
  }
}

void apply_document(std::string_view text, const std::string& file_name, Policy& into, int depth);

// Profiles are applied onto the same Policy in order, then the document itself: lists append,
// scalars override, so "extends: [default]" plus a list entry means "the default, and this too".
void apply_profiles(const YamlCursor& yaml, const YAML::Node& extends, Policy& into, int depth) {
  for (const YAML::Node& item : yaml.sequence(extends, "extends")) {
    std::string profile = yaml.string(item, "extends entry");
    std::optional<std::string_view> text = builtin_profile_text(profile);
    if (!text) {
      std::string known;
      for (const std::string& name : builtin_profile_names())
        known += (known.empty() ? "" : ", ") + name;
      yaml.fail(item, "unknown profile '" + profile + "'; built-in profiles: " + known);
    }
    if (depth >= kMaxExtendsDepth) yaml.fail(item, "profiles extend each other too deeply");
    // Lists append, so a profile applied twice would repeat every entry it adds.
    if (std::find(into.extends.begin(), into.extends.end(), profile) != into.extends.end()) {
      yaml.fail(item, "profile '" + profile +
                          "' is already included (listed twice, or through another profile); "
                          "list it once");
    }
    apply_document(*text, "<profile " + profile + ">", into, depth + 1);
    into.extends.push_back(profile);
  }
}

void apply_document(std::string_view text, const std::string& file_name, Policy& into, int depth) {
  YamlCursor yaml(file_name);
  try {
    // A later document would be silently dropped by YAML::Load, so it is an error.
    FirstDocument document = read_first_document(std::string(text));
    if (document.second_document) {
      const YAML::Mark& mark = *document.second_document;
      yaml.fail_at(
          SourceLocation{file_name, mark.line + 1, mark.column + 1},
          "a second YAML document (after '---') would be ignored; a policy is one document");
    }
    YAML::Node root = document.root;
    if (!root.IsDefined() || root.IsNull()) {
      yaml.fail(root, "the policy is empty; start with 'version: 1' and 'name: ...'");
    }
    if (!root.IsMap()) yaml.fail(root, "the policy must be a mapping of key: value");
    YAML::Node extends = root["extends"];
    bool enforce_form = root["enforce"].IsDefined();
    if (enforce_form || !extends.IsDefined()) {
      // Without `extends`, a policy starts from the embedded default: omitting it must never
      // mean "no read-only system, no hidden secrets". `extends: []` opts out explicitly.
      apply_profiles(yaml, YAML::Load("[default]"), into, depth);
    } else {
      apply_profiles(yaml, extends, into, depth);
      into.extends_where = yaml.where(extends);
    }
    PolicyBuilder builder(yaml, into);
    if (enforce_form) {
      builder.apply_enforce_form(root);
    } else {
      if (!root["version"].IsDefined()) yaml.fail(root, "missing 'version: 1' at the top");
      builder.apply_v1(root);
    }
    if (into.name.empty())
      yaml.fail(root, "missing 'name:': it identifies the sandbox in audit events");
  } catch (const YAML::Exception& failure) {
    SourceLocation where{file_name, failure.mark.line + 1, failure.mark.column + 1};
    if (failure.mark.is_null()) where = SourceLocation{file_name, 1, 1};
    throw LoadFailure(one_line(where.to_string() + ": not valid YAML: " + failure.msg));
  }
}

Result<Policy> load_layered(std::string_view text, const std::string& file_name, int depth) {
  try {
    Policy policy;
    apply_document(text, file_name, policy, depth);
    check_syscall_allowlist(YamlCursor(file_name), policy);
    return policy;
  } catch (const LoadFailure& failure) {
    return Error{failure.what()};
  } catch (const std::exception& failure) {
    return Error{one_line(file_name + ":1:1: cannot load the policy: " + failure.what())};
  }
}

}  // namespace

std::string SourceLocation::to_string() const {
  if (line == 0) return file;  // a command-line option, not a place in a file
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const char* to_string(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::deny_all:
      return "deny_all";
    case NetworkMode::allowlist:
      return "allowlist";
    case NetworkMode::observe:
      return "observe";
  }
  return "?";
}

Result<Policy> load_policy_text(std::string_view text, const std::string& file_name) {
  return load_layered(text, file_name, 0);
}

Result<Policy> load_policy_file(const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text) return Error{path + ":1:1: " + text.error().message};
  return load_policy_text(*text, path);
}

Result<Policy> load_profile(const std::string& profile_name) {
  std::optional<std::string_view> text = builtin_profile_text(profile_name);
  if (!text) return Error{"unknown profile '" + profile_name + "'"};
  return load_policy_text(*text, "<profile " + profile_name + ">");
}

}  // namespace airlock::policy
