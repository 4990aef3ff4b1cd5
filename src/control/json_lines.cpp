#include "control/json_lines.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fd_message.h"

namespace airlock::control {

bool send_line(int fd, const nlohmann::json& message, const std::vector<int>& fds) {
  std::string text = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  size_t sent = 0;
  bool first = true;
  while (sent < text.size()) {
    ssize_t n;
    if (first && fds.size() == 3) {
      FdMessage<3> carrier(text.data(), text.size());
      carrier.attach({fds[0], fds[1], fds[2]});
      n = ::sendmsg(fd, &carrier.message, MSG_NOSIGNAL);
    } else {
      n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // gone, or (EAGAIN) not reading within its send timeout
    sent += static_cast<size_t>(n);
    first = false;
  }
  return true;
}

LineReader::Fill LineReader::fill(int fd) {
  char chunk[16 * 1024];
  FdMessage<3> carrier(chunk, sizeof chunk);
  ssize_t n;
  do {
    n = ::recvmsg(fd, &carrier.message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN ? Fill::would_block : Fill::failed;
  for (cmsghdr* header = CMSG_FIRSTHDR(&carrier.message); header != nullptr;
       header = CMSG_NXTHDR(&carrier.message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int received = -1;
      std::memcpy(&received, CMSG_DATA(header) + i * sizeof(int), sizeof received);
      fds_.push_back(received);
    }
  }
  if (n == 0) return Fill::closed;
  buffer_.append(chunk, static_cast<size_t>(n));
  return Fill::data;
}

std::optional<std::string> LineReader::next_line() {
  const size_t end = buffer_.find('\n');
  if (end == std::string::npos) return std::nullopt;
  std::string line = buffer_.substr(0, end);
  buffer_.erase(0, end + 1);
  return line;
}

std::vector<int> LineReader::take_fds() {
  std::vector<int> taken;
  taken.swap(fds_);
  return taken;
}

LineReader::~LineReader() {
  for (int fd : fds_) ::close(fd);
}

}  // namespace airlock::control
