// The control protocol's framing: one JSON object per line ('\n'), in both directions. A request
// that hands descriptors over (exec's three pipes) carries them with SCM_RIGHTS on the same
// sendmsg(2) as its line.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace airlock::control {

inline constexpr size_t kMaxLineBytes = size_t{256} * 1024;  // a longer line is a protocol error

// Writes `message` and a newline, all of it (blocking, up to the socket's send timeout), without
// SIGPIPE; false if the peer is gone or stopped reading. With `fds`, they travel on the first
// sendmsg.
bool send_line(int fd, const nlohmann::json& message, const std::vector<int>& fds = {});

// Bytes read from a stream, cut into lines; descriptors received on the way are kept in order.
class LineReader {
 public:
  enum class Fill { data, closed, would_block, failed };
  // One recvmsg(2) (MSG_CMSG_CLOEXEC, at most 3 descriptors per message).
  Fill fill(int fd);
  // The next complete line, if any; a malformed or overlong line is returned as a string that
  // fails to parse, so the caller answers it with an error.
  std::optional<std::string> next_line();
  bool overflowed() const { return buffer_.size() > kMaxLineBytes; }
  std::vector<int> take_fds();
  ~LineReader();

 private:
  std::string buffer_;
  std::vector<int> fds_;
};

}  // namespace airlock::control
