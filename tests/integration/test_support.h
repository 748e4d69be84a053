// Shared by the integration tests: temporary config files, HTTP to the exporter, reading
// series out of the exposition text, and bounded waits for a condition.
#pragma once

#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace llm_probe::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("llm_probe_test_" + std::to_string(getpid()) + "_" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::ofstream(file) << content;
    return file.string();
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline std::string Get(int port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  auto response = client.Get(path);
  if (status) *status = response ? response->status : 0;
  return response ? response->body : std::string();
}

// An on-demand run or a reload: a POST without a body, as `curl -X POST` sends it.
inline std::string Post(int port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  auto response = client.Post(path);
  if (status) *status = response ? response->status : 0;
  return response ? response->body : std::string();
}

// Value of the series written exactly as `series` (name{labels} as the exporter orders them).
inline std::optional<double> SeriesValue(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

// Polls `condition` every 20 ms until it holds or `limit` passes; returns whether it held.
// The limit is generous: it bounds a failing test, it is not the expected time.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// Runs a shell command, returning its exit status and combined output.
inline int RunCommand(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  char buffer[4096];
  while (std::size_t read = fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, read);
  const int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A loopback port with nothing listening on it.
inline int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// The built exporter; LLM_PROBE_EXPORTER_UNDER_TEST names another one (an older build, to show
// that a test of a fix fails without it).
inline const std::string kExporterBinary = [] {
  const char* other = std::getenv("LLM_PROBE_EXPORTER_UNDER_TEST");
  return other && *other ? std::string(other) : std::string(LLM_PROBE_BINARY_DIR) + "/src/llm_probe_exporter";
}();

// The built exporter running as a user runs it, with its stderr in a file; killed when the
// object goes if it has not exited by then. `fd_limit` > 0: its RLIMIT_NOFILE, soft and hard.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::string& log_file, long fd_limit = 0) {
    pid_ = fork();
    if (pid_ == 0) {
      freopen(log_file.c_str(), "w", stderr);
      if (fd_limit > 0) {
        const rlimit limit{static_cast<rlim_t>(fd_limit), static_cast<rlim_t>(fd_limit)};
        setrlimit(RLIMIT_NOFILE, &limit);
      }
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(kExporterBinary.c_str()));
      for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      execv(kExporterBinary.c_str(), argv.data());
      _exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  void Signal(int signal) { kill(pid_, signal); }
  pid_t pid() const { return pid_; }
  // Exit code, or -1 when it does not exit within the limit (0: only asks whether it has).
  int Wait(std::chrono::seconds limit = std::chrono::seconds(20)) {
    int status = 0;
    const bool exited = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
    if (!exited) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

}  // namespace llm_probe::testing
