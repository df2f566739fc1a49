// Runs the real `eventlogger` binary as a child process with its output
// captured, for tests of the command line, signals and crashes.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace eventlogger::testing {

// The binary the child runs: the one built beside the tests, or the one
// EVENTLOGGER_TEST_BINARY names (CI runs the process tests of the sanitizer
// build against the release binary that way).
inline const char* TestBinary() {
  const char* named = std::getenv("EVENTLOGGER_TEST_BINARY");
  return named != nullptr && *named != '\0' ? named : EVENTLOGGER_BINARY;
}

// Whether that binary links jemalloc: the release build's does, the
// sanitizer build's cannot. EVENTLOGGER_TEST_BINARY_JEMALLOC=1 says so for
// a named binary.
inline bool TestBinaryLinksJemalloc() {
  if (const char* named = std::getenv("EVENTLOGGER_TEST_BINARY"); named != nullptr && *named != '\0') {
    const char* jemalloc = std::getenv("EVENTLOGGER_TEST_BINARY_JEMALLOC");
    return jemalloc != nullptr && std::string_view(jemalloc) == "1";
  }
#ifdef EVENTLOGGER_LINKS_JEMALLOC
  return true;
#else
  return false;
#endif
}

// A child process with its stdout (and stderr) captured.
class ChildProcess {
 public:
  // `env`: NAME=value entries added to (or replacing those of) this
  // process's environment.
  ChildProcess(std::vector<std::string> args, std::vector<std::string> env = {}) {
    // Everything the child needs is built before fork: the parent has other
    // threads (a running service), and one of them may hold an allocator
    // lock at the fork, so the child must not allocate (under ASan it hung
    // in malloc now and then). After fork it only calls dup2, close and
    // execve, which are async-signal-safe.
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string existing(*entry);
      const std::string name = existing.substr(0, existing.find('='));
      bool replaced = false;
      for (const std::string& assignment : env) replaced = replaced || assignment.substr(0, assignment.find('=')) == name;
      if (!replaced) environment.push_back(existing);
    }
    for (const std::string& assignment : env) environment.push_back(assignment);
    std::vector<char*> envp;
    for (std::string& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    const char* binary = TestBinary();
    argv.push_back(const_cast<char*>(binary));
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      ::dup2(pipe_fds[1], STDERR_FILENO);
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
      ::execve(binary, argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    out_fd_ = pipe_fds[0];
  }
  ~ChildProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  // Reads output until `pattern` matches a line or the timeout passes.
  std::optional<std::smatch> WaitForLine(const std::regex& pattern, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t newline;
      while ((newline = pending_.find('\n')) != std::string::npos) {
        lines_.push_back(pending_.substr(0, newline));
        pending_.erase(0, newline + 1);
        std::smatch match;
        if (std::regex_search(lines_.back(), match, pattern)) return match;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !ReadSome(static_cast<int>(left.count()))) return std::nullopt;
    }
  }

  // Waits for exit; returns the exit code, or -1 on timeout / signal.
  int WaitForExit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        while (ReadSome(100)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      ReadSome(50);
    }
    return -1;
  }

  void Signal(int signal) { ::kill(pid_, signal); }
  std::string Output() const {
    std::string all;
    for (const auto& line : lines_) all += line + "\n";
    return all + pending_;
  }

 private:
  bool ReadSome(int timeout_ms) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buffer[4096];
    const ssize_t n = ::read(out_fd_, buffer, sizeof buffer);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool exited_ = false;
  std::string pending_;
  std::vector<std::string> lines_;
};

// The "listening" log line; group 1 is the port.
inline const std::regex kListening(R"re("msg":"listening".*"port":(\d+))re");

// Starts `eventlogger serve` with `args` and returns its port (0 on failure).
inline uint16_t WaitForPort(ChildProcess& server) {
  const auto listening = server.WaitForLine(kListening, std::chrono::seconds(30));
  return listening ? static_cast<uint16_t>(std::stoi((*listening)[1].str())) : 0;
}

}  // namespace eventlogger::testing
