// Durations in the Prometheus notation, so config files read like prometheus.yml.
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "llm_probe/config.h"

namespace llm_probe {
namespace {

struct DurationUnit {
  std::string_view suffix;
  std::int64_t milliseconds;
};

// Largest first: amounts must appear in this order, each unit at most once (as in Prometheus).
constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kDay = 24 * 60 * 60 * kSecond;
constexpr std::array<DurationUnit, 7> kUnits = {{
    {"y", 365 * kDay},
    {"w", 7 * kDay},
    {"d", kDay},
    {"h", 60 * 60 * kSecond},
    {"m", 60 * kSecond},
    {"s", kSecond},
    {"ms", 1},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return c >= 'a' && c <= 'z'; }

}  // namespace

std::optional<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t total = 0;
  std::size_t next_allowed_unit = 0;
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() && IsDigit(text[digits])) ++digits;
    std::size_t letters = 0;
    while (digits + letters < text.size() && IsLetter(text[digits + letters])) ++letters;
    if (digits == 0 || letters == 0) return std::nullopt;

    std::int64_t amount = 0;
    if (std::from_chars(text.data(), text.data() + digits, amount).ec != std::errc{}) {
      return std::nullopt;
    }
    const std::string_view suffix = text.substr(digits, letters);
    std::size_t unit = next_allowed_unit;
    while (unit < kUnits.size() && kUnits[unit].suffix != suffix) ++unit;
    if (unit == kUnits.size()) return std::nullopt;

    const std::int64_t per_unit = kUnits[unit].milliseconds;
    if (amount > (kMax - total) / per_unit) return std::nullopt;
    total += amount * per_unit;
    next_allowed_unit = unit + 1;
    text.remove_prefix(digits + letters);
  }
  return Duration{total};
}

std::string FormatDuration(Duration duration) {
  std::int64_t remaining = duration.count();
  if (remaining == 0) return "0s";
  std::string text;
  if (remaining < 0) {
    text = "-";
    remaining = -remaining;
  }
  for (const DurationUnit& unit : kUnits) {
    if (remaining >= unit.milliseconds) {
      text += std::to_string(remaining / unit.milliseconds);
      text += unit.suffix;
      remaining %= unit.milliseconds;
    }
  }
  return text;
}

}  // namespace llm_probe
