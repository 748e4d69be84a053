#include "llm_probe/upstream_headers.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <map>
#include <string>
#include <system_error>

#include "llm_probe/text.h"

namespace llm_probe {
namespace {

constexpr std::string_view kDigits = "0123456789";

// The largest time.Duration Go can print (int64 nanoseconds); anything above is not Go's text.
constexpr double kMaxGoDurationSeconds = 9223372036.854775807;

// Resource names become the `resource` label, so their number and size are capped: a relay
// that invents a new resource per request must not grow the series count.
constexpr std::size_t kMaxRateLimitResources = 16;
constexpr std::size_t kMaxResourceNameBytes = 64;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A plain decimal ("42", "1.5", ".5"); from_chars alone would also take a sign, "1e5" and "inf",
// none of which belong in these headers.
std::optional<double> ParseUnsignedDecimal(std::string_view text) {
  if (text.find_first_not_of("0123456789.") != std::string_view::npos ||
      text.find_first_of(kDigits) == std::string_view::npos) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> GoUnitSeconds(std::string_view unit) {
  struct Unit {
    std::string_view name;
    double seconds;
  };
  // Go accepts both the micro sign (U+00B5) and the Greek mu (U+03BC) for microseconds.
  static constexpr std::array<Unit, 8> kUnits = {{
      {"ns", 1e-9},
      {"us", 1e-6},
      {"\u00b5s", 1e-6},
      {"\u03bcs", 1e-6},
      {"ms", 1e-3},
      {"s", 1},
      {"m", 60},
      {"h", 3600},
  }};
  for (const Unit& candidate : kUnits) {
    if (candidate.name == unit) return candidate.seconds;
  }
  return std::nullopt;
}

// `count` decimal digits at `pos`, nothing else.
std::optional<int> FixedDigits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!IsDigit(text[i])) return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool HasLiteralAt(std::string_view text, std::size_t pos, std::string_view literal) {
  return text.substr(std::min(pos, text.size()), literal.size()) == literal;
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil):
// exact for any year, and free of timegm's time zone and locale state.
long long DaysFromCivil(int year, int month, int day) {
  const long long y = month <= 2 ? year - 1 : year;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long year_of_era = y - era * 400;
  const long long day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const long long day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct CivilTime {
  int year;
  int month;
  int day;
  int hour;
  int minute;
  int second;  // 60 is a leap second, which both RFC 3339 and HTTP-date allow
};

std::optional<double> UnixSecondsOf(const CivilTime& time) {
  if (time.month < 1 || time.month > 12 || time.day < 1 ||
      time.day > DaysInMonth(time.year, time.month) || time.hour > 23 || time.minute > 59 ||
      time.second > 60) {
    return std::nullopt;
  }
  const long long days = DaysFromCivil(time.year, time.month, time.day);
  return static_cast<double>(days * 86400 + time.hour * 3600 + time.minute * 60 + time.second);
}

// The month of an HTTP-date, 1-based.
std::optional<int> MonthNumber(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto found = std::find(kMonths.begin(), kMonths.end(), name);
  if (found == kMonths.end()) return std::nullopt;
  return static_cast<int>(found - kMonths.begin()) + 1;
}

bool IsDayName(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  return std::find(kDays.begin(), kDays.end(), name) != kDays.end();
}

bool IsValidResourceName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxResourceNameBytes &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string_view::npos;
}

std::optional<double> SecondsUntil(std::optional<double> unix_time, double now_unix) {
  if (!unix_time) return std::nullopt;
  return std::max(0.0, *unix_time - now_unix);
}

// The two header dialects differ in where the resource sits in the name and in how the reset
// time is written; everything else is shared.
struct RateLimitDialect {
  std::string_view prefix;
  bool field_before_resource;  // x-ratelimit-limit-requests vs anthropic-ratelimit-requests-limit
  std::optional<double> (*parse_reset)(std::string_view value, double now_unix);
};

constexpr std::array<RateLimitDialect, 2> kDialects = {{
    {"x-ratelimit-", true, [](std::string_view value, double) { return ParseGoDuration(value); }},
    {"anthropic-ratelimit-", false,
     [](std::string_view value, double now_unix) {
       return SecondsUntil(ParseRfc3339(value), now_unix);
     }},
}};

struct RateLimitFieldName {
  std::string_view name;
  std::optional<double> RateLimit::*slot;
};

constexpr std::array<RateLimitFieldName, 3> kFieldNames = {{
    {"limit", &RateLimit::limit},
    {"remaining", &RateLimit::remaining},
    {"reset", &RateLimit::reset_seconds},
}};

struct RateLimitHeader {
  const RateLimitDialect* dialect;
  const RateLimitFieldName* field;
  std::string_view resource;
};

std::optional<RateLimitHeader> MatchRateLimitHeader(std::string_view lower_name) {
  for (const RateLimitDialect& dialect : kDialects) {
    if (!lower_name.starts_with(dialect.prefix)) continue;
    const std::string_view rest = lower_name.substr(dialect.prefix.size());
    for (const RateLimitFieldName& field : kFieldNames) {
      const std::size_t affix_size = field.name.size() + 1;  // the name and its '-'
      if (rest.size() <= affix_size) continue;
      if (dialect.field_before_resource) {
        if (rest.starts_with(field.name) && rest[field.name.size()] == '-') {
          return RateLimitHeader{&dialect, &field, rest.substr(affix_size)};
        }
      } else if (rest.ends_with(field.name) && rest[rest.size() - affix_size] == '-') {
        return RateLimitHeader{&dialect, &field, rest.substr(0, rest.size() - affix_size)};
      }
    }
  }
  return std::nullopt;
}

// A date laid out as `layout`, as Go's time.Parse reads one: "Www" is a day name (checked for
// form only), "Mmm" a month name, "DD" a two-digit day, "YYYY", "hh", "mm" and "ss" digits;
// every other character stands for itself. Lengths must match.
std::optional<double> ParseDateLayout(std::string_view text, std::string_view layout) {
  if (text.size() != layout.size()) return std::nullopt;
  CivilTime time{};
  const struct Field {
    std::string_view token;
    int CivilTime::*value;
  } kNumbers[] = {{"YYYY", &CivilTime::year}, {"DD", &CivilTime::day},    {"hh", &CivilTime::hour},
                  {"mm", &CivilTime::minute}, {"ss", &CivilTime::second}};
  std::size_t i = 0;
  while (i < layout.size()) {
    const std::string_view rest = layout.substr(i);
    if (rest.starts_with("Www")) {
      if (!IsDayName(text.substr(i, 3))) return std::nullopt;
      i += 3;
    } else if (rest.starts_with("Mmm")) {
      const std::optional<int> month = MonthNumber(text.substr(i, 3));
      if (!month) return std::nullopt;
      time.month = *month;
      i += 3;
    } else if (const auto field = std::find_if(std::begin(kNumbers), std::end(kNumbers),
                                               [&](const Field& f) { return rest.starts_with(f.token); });
               field != std::end(kNumbers)) {
      const std::optional<int> value = FixedDigits(text, i, field->token.size());
      if (!value) return std::nullopt;
      time.*(field->value) = *value;
      i += field->token.size();
    } else {
      if (text[i] != layout[i]) return std::nullopt;
      ++i;
    }
  }
  return UnixSecondsOf(time);
}

}  // namespace

std::optional<double> ParseGoDuration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return 0.0;  // the one unit-less form Go accepts
  if (text.empty()) return std::nullopt;

  double total = 0;
  while (!text.empty()) {
    const std::size_t number_size = text.find_first_not_of("0123456789.");
    if (number_size == std::string_view::npos) return std::nullopt;  // a number needs a unit
    const std::optional<double> number = ParseUnsignedDecimal(text.substr(0, number_size));
    text.remove_prefix(number_size);
    // Like Go, the unit is everything up to the next number, so "1sm" is an unknown unit.
    const std::string_view unit = text.substr(0, text.find_first_of("0123456789."));
    const std::optional<double> unit_seconds = GoUnitSeconds(unit);
    if (!number || !unit_seconds) return std::nullopt;
    total += *number * *unit_seconds;
    text.remove_prefix(unit.size());
  }
  if (total > kMaxGoDurationSeconds) return std::nullopt;
  // A negative wait or reset means nothing to a prober; "-0s" is still zero.
  if (negative && total > 0) return std::nullopt;
  return total;
}

std::optional<double> ParseRfc3339(std::string_view text) {
  // 2026-11-27T13:00:00[.fraction](Z|+hh:mm|-hh:mm)
  const auto year = FixedDigits(text, 0, 4);
  const auto month = FixedDigits(text, 5, 2);
  const auto day = FixedDigits(text, 8, 2);
  const auto hour = FixedDigits(text, 11, 2);
  const auto minute = FixedDigits(text, 14, 2);
  const auto second = FixedDigits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || !HasLiteralAt(text, 4, "-") ||
      !HasLiteralAt(text, 7, "-") ||
      !(HasLiteralAt(text, 10, "T") || HasLiteralAt(text, 10, "t")) ||
      !HasLiteralAt(text, 13, ":") || !HasLiteralAt(text, 16, ":")) {
    return std::nullopt;
  }
  const std::optional<double> whole_seconds =
      UnixSecondsOf({*year, *month, *day, *hour, *minute, *second});
  if (!whole_seconds) return std::nullopt;

  std::string_view rest = text.substr(19);
  std::optional<double> fraction = 0.0;
  if (rest.starts_with('.')) {
    const std::size_t fraction_end = std::min(rest.find_first_not_of(kDigits, 1), rest.size());
    fraction = ParseUnsignedDecimal(rest.substr(0, fraction_end));  // nullopt for a bare '.'
    rest.remove_prefix(fraction_end);
  }
  if (!fraction) return std::nullopt;

  double offset_seconds = 0;
  if (rest != "Z" && rest != "z") {
    const auto offset_hour = FixedDigits(rest, 1, 2);
    const auto offset_minute = FixedDigits(rest, 4, 2);
    if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' || !offset_hour ||
        !offset_minute || *offset_hour > 23 || *offset_minute > 59) {
      return std::nullopt;
    }
    offset_seconds = (rest[0] == '-' ? -1 : 1) * (*offset_hour * 3600 + *offset_minute * 60);
  }
  return *whole_seconds + *fraction - offset_seconds;
}

std::optional<double> ParseHttpDate(std::string_view text) {
  // IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"): RFC 9110 makes senders use it, and the
  // obsolete RFC 850 and asctime forms do not occur in API replies. The day name is checked
  // for form but, as in Go's net/http, not against the date.
  return ParseDateLayout(text, "Www, DD Mmm YYYY hh:mm:ss GMT");
}

std::optional<double> ParseRetryAfter(std::string_view value, double now_unix) {
  value = TrimOws(value);
  if (!value.empty() && value.find_first_not_of(kDigits) == std::string_view::npos) {
    return ParseUnsignedDecimal(value);
  }
  return SecondsUntil(ParseHttpDate(value), now_unix);
}

std::vector<RateLimit> ParseRateLimits(const HeaderList& headers, double now_unix) {
  std::map<std::string, RateLimit, std::less<>> by_resource;
  for (const auto& [name, raw_value] : headers) {
    const std::string lower_name = AsciiLower(name);
    const std::optional<RateLimitHeader> header = MatchRateLimitHeader(lower_name);
    if (!header || !IsValidResourceName(header->resource)) continue;

    const std::string_view value = TrimOws(raw_value);
    const std::optional<double> parsed = header->field->slot == &RateLimit::reset_seconds
                                             ? header->dialect->parse_reset(value, now_unix)
                                             : ParseUnsignedDecimal(value);
    if (!parsed) continue;

    auto found = by_resource.find(header->resource);
    if (found == by_resource.end()) {
      if (by_resource.size() == kMaxRateLimitResources) continue;
      found = by_resource.emplace(header->resource, RateLimit{}).first;
      found->second.resource = header->resource;
    }
    // First value wins, as in HttpExchange::Header.
    std::optional<double>& slot = found->second.*(header->field->slot);
    if (!slot) slot = parsed;
  }

  std::vector<RateLimit> limits;
  limits.reserve(by_resource.size());
  for (auto& entry : by_resource) limits.push_back(std::move(entry.second));
  return limits;
}

}  // namespace llm_probe
