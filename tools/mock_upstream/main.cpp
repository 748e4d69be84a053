// mock_upstream --listen HOST:PORT [--scenarios FILE.json] [--threads N]
// Serves the fake AI API until SIGTERM or SIGINT; FILE maps scenario names to a behaviour or an
// array of behaviours (a cycle), in the control API's JSON form.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "mock_upstream.h"

namespace {

constexpr const char* kUsage =
    "usage: mock_upstream --listen HOST:PORT [--scenarios FILE.json] [--threads N]\n"
    "  PORT 0 picks a free port; the start line on stderr names it.\n";

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string scenarios_file;
  std::size_t threads = 64;
};

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(EXIT_SUCCESS);
    }
    if (i + 1 >= argc) throw std::invalid_argument("missing value after " + flag);
    const std::string value = argv[++i];
    if (flag == "--listen") {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos) throw std::invalid_argument("--listen wants HOST:PORT, got " + value);
      options.host = value.substr(0, colon);
      if (options.host.size() > 1 && options.host.front() == '[') options.host = options.host.substr(1, options.host.size() - 2);
      options.port = std::stoi(value.substr(colon + 1));
    } else if (flag == "--scenarios") {
      options.scenarios_file = value;
    } else if (flag == "--threads") {
      options.threads = std::stoul(value);
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  return options;
}

std::string LoadScenarios(mock_upstream::MockUpstream& mock, const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read " + path);
  const nlohmann::json scenarios = nlohmann::json::parse(file);
  if (!scenarios.is_object()) throw std::runtime_error(path + ": want an object of scenario name -> behaviour(s)");
  std::string names;
  for (const auto& [name, cycle] : scenarios.items()) {
    try {
      mock.SetBehaviour(name, mock_upstream::CycleFromJson(cycle));
    } catch (const std::invalid_argument& error) {
      throw std::runtime_error(path + ": scenario \"" + name + "\": " + error.what());
    }
    names += (names.empty() ? "" : ",") + name;
  }
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = ParseOptions(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "mock_upstream: " << error.what() << "\n" << kUsage;
    return 2;
  }
  // Blocked before any thread starts, so every server thread inherits the mask and sigwait below
  // is the only receiver.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  mock_upstream::MockUpstream mock(options.threads);
  try {
    const std::string names = options.scenarios_file.empty() ? "" : LoadScenarios(mock, options.scenarios_file);
    const int port = mock.Start(options.host, options.port);
    std::cerr << "mock_upstream listening on port " << port << ": " << mock.BaseUrl("<scenario>")
              << " (scenarios: " << (names.empty() ? "none" : names) << ")" << std::endl;
  } catch (const std::exception& error) {
    std::cerr << "mock_upstream: " << error.what() << std::endl;
    return 1;
  }
  int received = 0;
  sigwait(&stop_signals, &received);
  mock.Stop();
  return EXIT_SUCCESS;
}
