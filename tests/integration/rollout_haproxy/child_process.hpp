// A process the integration test starts and stops by its PID.
#ifndef MEND_TESTS_ROLLOUT_HAPROXY_CHILD_PROCESS_HPP
#define MEND_TESTS_ROLLOUT_HAPROXY_CHILD_PROCESS_HPP

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mend_test {

// Starts `argv` with its output going to `log_path` (stdout and stderr) or,
// with capture_stdout, stdout going to a pipe that read_line() reads. The
// destructor stops a process that still runs: SIGTERM, then SIGKILL after
// five seconds, and reaps it.
class child_process {
 public:
  child_process(std::vector<std::string> argv, const std::string& log_path, bool capture_stdout = false)
      : name_(argv.at(0)) {
    int pipe_fds[2] = {-1, -1};
    if (capture_stdout && ::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log < 0) throw std::runtime_error("cannot open " + log_path + ": " + std::strerror(errno));

    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(capture_stdout ? pipe_fds[1] : log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(log);
    if (capture_stdout) {
      ::close(pipe_fds[1]);
      stdout_ = pipe_fds[0];
    }
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  ~child_process() {
    stop(SIGTERM);
    if (stdout_ >= 0) ::close(stdout_);
  }

  pid_t pid() const noexcept { return pid_; }
  const std::string& name() const noexcept { return name_; }
  bool running() {
    poll_exit();
    return !exit_status_;
  }

  // Sends `signal` and waits for the process to end (SIGKILL after five
  // seconds). Returns the wait status; does nothing for an ended process.
  int stop(int signal) {
    if (running()) {
      ::kill(pid_, signal);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
      while (running() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
      if (running()) {
        ::kill(pid_, SIGKILL);
        wait();
      }
    }
    return exit_status_.value_or(-1);
  }

  // Waits for the process to end by itself and returns its wait status.
  int wait() {
    while (!exit_status_) {
      int status = 0;
      if (::waitpid(pid_, &status, 0) == pid_)
        exit_status_ = status;
      else if (errno != EINTR)
        exit_status_ = -1;
    }
    return *exit_status_;
  }

  // Reads one line of the captured stdout; nullopt at its end.
  std::optional<std::string> read_line() {
    for (;;) {
      if (const auto end = pending_.find('\n'); end != std::string::npos) {
        std::string line = pending_.substr(0, end);
        pending_.erase(0, end + 1);
        return line;
      }
      char chunk[512];
      const auto received = ::read(stdout_, chunk, sizeof(chunk));
      if (received < 0 && errno == EINTR) continue;
      if (received <= 0) {
        if (pending_.empty()) return std::nullopt;
        return std::exchange(pending_, std::string{});
      }
      pending_.append(chunk, static_cast<std::size_t>(received));
    }
  }

 private:
  void poll_exit() {
    if (exit_status_) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) exit_status_ = status;
  }

  std::string name_;
  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string pending_;
  std::optional<int> exit_status_;
};

}  // namespace mend_test

#endif  // MEND_TESTS_ROLLOUT_HAPROXY_CHILD_PROCESS_HPP
