#include "control/control_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/errno_text.h"
#include "common/unix_address.h"
#include "control/control_directory.h"
#include "control/json_lines.h"

namespace airlock::control {

Result<UniqueFd> connect_to_sandbox(const std::string& name) {
  if (!valid_sandbox_name(name)) return Error{fmt::format("'{}' is not a sandbox name", name)};
  const std::string path = socket_path(control_directory(), name);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error{"cannot create a socket: " + errno_text(errno)};
  const std::optional<sockaddr_un> address = unix_address(path);
  if (!address) return Error{"socket path too long: " + path};
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0) {
    if (errno == ENOENT)
      return Error{fmt::format("no sandbox named {} (airlock ps lists them)", name)};
    if (errno == ECONNREFUSED)
      return Error{fmt::format("sandbox {} is not running (its socket {} is stale)", name, path)};
    return Error{
        fmt::format("cannot connect to sandbox {} ({}): {}", name, path, errno_text(errno))};
  }
  return fd;
}

Result<nlohmann::json> read_answer(int fd) {
  std::string line;
  char byte = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{"cannot read from the control socket: " + errno_text(errno)};
    if (n == 0) return Error{"the sandbox closed the connection"};
    if (byte == '\n') break;
    line += byte;
    if (line.size() > kMaxLineBytes) return Error{"the sandbox sent an overlong line"};
  }
  nlohmann::json answer = nlohmann::json::parse(line, nullptr, false);
  if (!answer.is_object()) return Error{"the sandbox sent something that is not JSON: " + line};
  if (answer.contains("ok") && answer["ok"] == false)
    return Error{answer.value("error", std::string("refused"))};
  return answer;
}

Result<nlohmann::json> request_once(const std::string& name, const nlohmann::json& request) {
  Result<UniqueFd> connection = connect_to_sandbox(name);
  if (!connection) return connection.error();
  if (!send_line(connection->get(), request))
    return Error{fmt::format("sandbox {} closed the connection", name)};
  Result<nlohmann::json> answer = read_answer(connection->get());
  if (!answer) return Error{fmt::format("sandbox {}: {}", name, answer.error().message)};
  return answer;
}

std::vector<nlohmann::json> list_sandboxes() {
  std::vector<nlohmann::json> live;
  for (const std::string& name : listed_sandbox_names()) {
    Result<nlohmann::json> info = request_once(name, {{"op", "info"}});
    if (info) live.push_back(std::move(info).value());
  }
  return live;
}

}  // namespace airlock::control
