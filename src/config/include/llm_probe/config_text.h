// Small text helpers shared by the config parsers.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace llm_probe::config_detail {

// `text` in double quotes with escapes, shortened when long: how values appear in messages.
std::string Quote(std::string_view text);

// [A-Za-z_][A-Za-z0-9_]*: environment variable and Prometheus label names.
bool IsIdentifier(std::string_view text);

// The whole of `text` as a number; nullopt on trailing characters or overflow.
template <typename Number>
std::optional<Number> ParseNumber(std::string_view text) {
  Number number{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return number;
}

}  // namespace llm_probe::config_detail
