#include "llm_probe/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "llm_probe/redact.h"

namespace llm_probe {
namespace {

struct LogState {
  std::mutex mutex;
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kLogfmt;
  Redactor redactor;
};

LogState& State() {
  static LogState state;
  return state;
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char code[8];
          std::snprintf(code, sizeof code, "\\u%04x", c);
          out += code;
        } else {
          out += c;
        }
    }
  }
}

void AppendPair(std::string& out, LogFormat format, std::string_view key, std::string_view value) {
  if (format == LogFormat::kJson) {
    out += out.size() > 1 ? ",\"" : "\"";
    AppendEscaped(out, key);
    out += "\":\"";
    AppendEscaped(out, value);
    out += '"';
    return;
  }
  if (!out.empty()) out += ' ';
  out.append(key);
  out += '=';
  if (NeedsQuotes(value)) {
    out += '"';
    AppendEscaped(out, value);
    out += '"';
  } else {
    out.append(value);
  }
}

std::string Now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return text;
}

}  // namespace

bool ParseLogLevel(std::string_view name, LogLevel& level) {
  for (LogLevel candidate : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (LevelName(candidate) == name) {
      level = candidate;
      return true;
    }
  }
  return false;
}

bool ParseLogFormat(std::string_view name, LogFormat& format) {
  if (name == "logfmt") {
    format = LogFormat::kLogfmt;
  } else if (name == "json") {
    format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

void ConfigureLogging(LogLevel level, LogFormat format) {
  std::lock_guard lock(State().mutex);
  State().level = level;
  State().format = format;
}

void SetLogSecrets(std::vector<std::string> secrets) {
  std::lock_guard lock(State().mutex);
  State().redactor = Redactor(std::move(secrets));
}

bool LogEnabled(LogLevel level) {
  std::lock_guard lock(State().mutex);
  return level >= State().level;
}

std::string FormatLogLine(LogFormat format, std::string_view timestamp, LogLevel level,
                          std::string_view component, std::string_view message,
                          const LogFields& fields) {
  std::string line = format == LogFormat::kJson ? "{" : "";
  AppendPair(line, format, "ts", timestamp);
  AppendPair(line, format, "level", LevelName(level));
  AppendPair(line, format, "component", component);
  AppendPair(line, format, "msg", message);
  for (const auto& [key, value] : fields) AppendPair(line, format, key, value);
  if (format == LogFormat::kJson) line += '}';
  return line;
}

void Log(LogLevel level, std::string_view component, std::string_view message,
         const LogFields& fields) {
  LogState& state = State();
  std::lock_guard lock(state.mutex);
  if (level < state.level) return;
  LogFields redacted;
  redacted.reserve(fields.size());
  for (const auto& [key, value] : fields) redacted.emplace_back(key, state.redactor.Redact(value));
  std::string line = FormatLogLine(state.format, Now(), level, component,
                                   state.redactor.Redact(message), redacted);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace llm_probe
