#include "control/exec_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "control/control_client.h"
#include "control/json_lines.h"

namespace airlock::control {
namespace {

using Clock = std::chrono::steady_clock;

// Where the command's bytes come from and go to.
struct Streams {
  bool capture = false;  // keep stdout/stderr in the outcome instead of writing them to ours
  size_t output_cap = kDefaultOutputCap;
  const std::string* input = nullptr;  // captured: the whole stdin; streaming: null (use fd 0)
  bool forward_signals = false;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> make_pipe() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return Error{"cannot create a pipe: " + errno_text(errno)};
  return Pipe{UniqueFd(ends[0]), UniqueFd(ends[1])};
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd wait{fd, POLLOUT, 0};
      ::poll(&wait, 1, -1);
      continue;
    }
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

class ExecSession {
 public:
  ExecSession(const ExecRequest& request, Streams streams) : request_(request), streams_(streams) {}

  CapturedResult run() {
    Result<UniqueFd> connection = connect_to_sandbox(request_.session);
    if (!connection) return failed(connection.error().message, 125);
    control_ = std::move(connection).value();
    Result<Pipe> in = make_pipe();
    Result<Pipe> out = make_pipe();
    Result<Pipe> err = make_pipe();
    if (!in || !out || !err) return failed("cannot create the command's pipes", 125);
    Pipe& input = in.value();
    Pipe& output = out.value();
    Pipe& errors = err.value();
    nlohmann::json line = {{"op", "exec"}, {"argv", request_.argv}, {"env", request_.environment}};
    if (request_.cwd) line["cwd"] = *request_.cwd;
    if (!send_line(control_.get(), line,
                   {input.read.get(), output.write.get(), errors.write.get()}))
      return failed(fmt::format("sandbox {} closed the connection", request_.session), 125);
    input.read.reset();  // the command holds the other ends now
    output.write.reset();
    errors.write.reset();
    stdin_pipe_ = std::move(input.write);
    stdout_pipe_ = std::move(output.read);
    stderr_pipe_ = std::move(errors.read);
    set_nonblocking(stdin_pipe_.get());
    set_nonblocking(stdout_pipe_.get());
    set_nonblocking(stderr_pipe_.get());
    if (streams_.input != nullptr) {
      pending_input_ = *streams_.input;
      if (pending_input_.empty()) stdin_pipe_.reset();
    } else {
      reading_stdin_ = true;
    }
    if (streams_.forward_signals) catch_signals();
    started_ = Clock::now();
    if (request_.timeout_ms) deadline_ = started_ + std::chrono::milliseconds(*request_.timeout_ms);
    return loop();
  }

 private:
  CapturedResult failed(const std::string& message, int exit_code) {
    CapturedResult result;
    result.failure = ExecFailure{message, exit_code};
    return result;
  }

  void catch_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, signal);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  }

  CapturedResult loop() {
    for (;;) {
      std::vector<pollfd> fds;
      fds.push_back({control_.get(), POLLIN, 0});
      fds.push_back({stdout_pipe_.get(), POLLIN, 0});
      fds.push_back({stderr_pipe_.get(), POLLIN, 0});
      const bool feeding = stdin_pipe_.valid() && !pending_input_.empty();
      fds.push_back({feeding ? stdin_pipe_.get() : -1, POLLOUT, 0});
      fds.push_back(
          {reading_stdin_ && !feeding && stdin_pipe_.valid() ? STDIN_FILENO : -1, POLLIN, 0});
      fds.push_back({signals_.get(), POLLIN, 0});
      int timeout = -1;
      if (deadline_ && !timed_out_) {
        timeout = static_cast<int>(std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - Clock::now())
                   .count()));
      }
      const int ready = ::poll(fds.data(), fds.size(), timeout);
      if (ready < 0 && errno == EINTR) continue;
      if (deadline_ && !timed_out_ && Clock::now() >= *deadline_) {
        timed_out_ = true;
        send_line(control_.get(), {{"op", "signal"}, {"signal", SIGKILL}});
      }
      if (ready <= 0) continue;
      if ((fds[1].revents & (POLLIN | POLLHUP)) != 0) drain(stdout_pipe_, 1, outcome_.stdout_text);
      if ((fds[2].revents & (POLLIN | POLLHUP)) != 0) drain(stderr_pipe_, 2, outcome_.stderr_text);
      if ((fds[3].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) feed();
      if ((fds[4].revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_our_stdin();
      if ((fds[5].revents & POLLIN) != 0) forward_signal();
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        if (std::optional<CapturedResult> done = on_control()) return *done;
      }
    }
  }

  // Output of the command: ours, or captured up to the cap (the rest is read and dropped).
  void drain(UniqueFd& pipe, int ours, std::string& captured) {
    if (!pipe.valid()) return;
    char chunk[64 * 1024];
    for (;;) {
      const ssize_t n = ::read(pipe.get(), chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;  // EAGAIN: nothing more for now
      if (n == 0) {
        pipe.reset();
        return;
      }
      const auto size = static_cast<size_t>(n);
      if (!streams_.capture) {
        write_all(ours, chunk, size);
      } else if (captured.size() < streams_.output_cap) {
        const size_t room = streams_.output_cap - captured.size();
        captured.append(chunk, std::min(room, size));
        if (size > room) outcome_.truncated = true;
      } else {
        outcome_.truncated = true;
      }
    }
  }

  void feed() {
    while (!pending_input_.empty()) {
      const ssize_t n = ::write(stdin_pipe_.get(), pending_input_.data(), pending_input_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {  // the command closed its stdin
        pending_input_.clear();
        stdin_pipe_.reset();
        return;
      }
      pending_input_.erase(0, static_cast<size_t>(n));
    }
    if (streams_.input != nullptr) stdin_pipe_.reset();  // all of it given: EOF
  }

  void read_our_stdin() {
    char chunk[64 * 1024];
    const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      reading_stdin_ = false;
      stdin_pipe_.reset();  // EOF for the command too
      return;
    }
    pending_input_.append(chunk, static_cast<size_t>(n));
    feed();
  }

  void forward_signal() {
    signalfd_siginfo info{};
    while (::read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      send_line(control_.get(), {{"op", "signal"}, {"signal", info.ssi_signo}});
    }
  }

  std::optional<CapturedResult> on_control() {
    const LineReader::Fill filled = reader_.fill(control_.get());
    if (filled == LineReader::Fill::would_block) return std::nullopt;
    if (filled != LineReader::Fill::data) {
      return failed(fmt::format("sandbox {} ended before the command did", request_.session), 137);
    }
    while (std::optional<std::string> line = reader_.next_line()) {
      const nlohmann::json event = nlohmann::json::parse(*line, nullptr, false);
      if (!event.is_object()) return failed("the sandbox sent something that is not JSON", 125);
      const std::string kind = event.value("event", "");
      if (kind == "failed" || event.value("ok", true) == false) {
        return failed(event.value("error", std::string("refused")), event.value("exit_code", 125));
      }
      if (kind == "exited") return finish(event);
    }
    return std::nullopt;
  }

  CapturedResult finish(const nlohmann::json& event) {
    // The command has exited: what it wrote is in the pipes already. A process it left behind
    // may hold them open; it is not waited for.
    drain(stdout_pipe_, 1, outcome_.stdout_text);
    drain(stderr_pipe_, 2, outcome_.stderr_text);
    outcome_.exit_code = event.value("exit_code", 125);
    if (event.contains("signal")) outcome_.signal = event["signal"].get<int>();
    outcome_.timed_out = timed_out_;
    outcome_.duration_ms = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count());
    CapturedResult result;
    result.outcome = std::move(outcome_);
    return result;
  }

  const ExecRequest& request_;
  Streams streams_;
  UniqueFd control_;
  UniqueFd stdin_pipe_;
  UniqueFd stdout_pipe_;
  UniqueFd stderr_pipe_;
  UniqueFd signals_;
  LineReader reader_;
  std::string pending_input_;
  bool reading_stdin_ = false;
  bool timed_out_ = false;
  Clock::time_point started_;
  std::optional<Clock::time_point> deadline_;
  ExecOutcome outcome_;
};

}  // namespace

CapturedResult exec_captured(const ExecRequest& request, const std::string& input,
                             size_t output_cap) {
  Streams streams;
  streams.capture = true;
  streams.output_cap = output_cap;
  streams.input = &input;
  return ExecSession(request, streams).run();
}

CapturedResult exec_streaming(const ExecRequest& request) {
  Streams streams;
  streams.forward_signals = true;
  return ExecSession(request, streams).run();
}

}  // namespace airlock::control
