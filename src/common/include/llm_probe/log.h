// Structured log lines (logfmt or JSON) to stderr, every message and value passed through the
// redactor so no configured secret can reach the log.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llm_probe {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kLogfmt, kJson };

using LogFields = std::vector<std::pair<std::string, std::string>>;

// Returns false for an unknown name.
bool ParseLogLevel(std::string_view name, LogLevel& level);
bool ParseLogFormat(std::string_view name, LogFormat& format);

void ConfigureLogging(LogLevel level, LogFormat format);
// Replaces the secrets the log must never show (from the config, at load and reload).
void SetLogSecrets(std::vector<std::string> secrets);
bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view component, std::string_view message,
         const LogFields& fields = {});

// One line in the configured format, for tests: no clock, no output.
std::string FormatLogLine(LogFormat format, std::string_view timestamp, LogLevel level,
                          std::string_view component, std::string_view message,
                          const LogFields& fields);

}  // namespace llm_probe
