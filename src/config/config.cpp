#include "llm_probe/config.h"

#include <cstdlib>

#include "llm_probe/config_files.h"

namespace llm_probe {
namespace {

std::string FormatError(const std::string& file, int line, int column, const std::string& message) {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(FormatError(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column) {}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Config LoadConfigFile(const std::string& path, const EnvLookup& env) {
  auto content = config_detail::ReadFile(path);
  if (const auto* error = std::get_if<config_detail::FileError>(&content)) {
    throw ConfigError(path, 0, 0, "cannot read config file: " + error->reason);
  }
  return ParseConfig(std::get<config_detail::FileContent>(content).bytes, path, env);
}

}  // namespace llm_probe
