#include "llm_probe/upstream_headers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace llm_probe {

void PrintTo(const RateLimit& limit, std::ostream* os) {
  const auto show = [os](const char* name, const std::optional<double>& value) {
    *os << " " << name << "=";
    if (value) {
      *os << *value;
    } else {
      *os << "absent";
    }
  };
  *os << "{" << limit.resource;
  show("limit", limit.limit);
  show("remaining", limit.remaining);
  show("reset", limit.reset_seconds);
  *os << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::Optional;

struct ParseRow {
  std::string text;
  std::optional<double> expected;
};

void PrintTo(const ParseRow& row, std::ostream* os) { *os << "\"" << row.text << "\""; }

MATCHER_P(ParsesTo, expected, "") {
  if (!expected) return !arg.has_value();
  return arg.has_value() && std::abs(*arg - *expected) < 1e-9;
}

// ---- Go durations ---------------------------------------------------------------------------

class GoDurationTest : public ::testing::TestWithParam<ParseRow> {};

TEST_P(GoDurationTest, Parses) {
  EXPECT_THAT(ParseGoDuration(GetParam().text), ParsesTo(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Valid, GoDurationTest,
    ::testing::Values(ParseRow{"6m0s", 360}, ParseRow{"12ms", 0.012}, ParseRow{"1.5s", 1.5},
                      ParseRow{"2h3m4.5s", 7384.5}, ParseRow{"0s", 0}, ParseRow{"0", 0},
                      ParseRow{"500us", 0.0005}, ParseRow{"500\u00b5s", 0.0005},
                      ParseRow{"500\u03bcs", 0.0005}, ParseRow{"100ns", 1e-7}, ParseRow{"1h", 3600},
                      ParseRow{"+5s", 5}, ParseRow{".5s", 0.5}, ParseRow{"5.s", 5},
                      ParseRow{"-0s", 0}, ParseRow{"1m1m", 120}, ParseRow{"8.64s", 8.64}));

INSTANTIATE_TEST_SUITE_P(
    Invalid, GoDurationTest,
    ::testing::Values(ParseRow{"", std::nullopt}, ParseRow{"5", std::nullopt},
                      ParseRow{"s", std::nullopt}, ParseRow{"-1s", std::nullopt},
                      ParseRow{"-", std::nullopt}, ParseRow{"+", std::nullopt},
                      ParseRow{".s", std::nullopt}, ParseRow{"1sm", std::nullopt},
                      ParseRow{"1.2.3s", std::nullopt}, ParseRow{"1 s", std::nullopt},
                      ParseRow{" 1s", std::nullopt}, ParseRow{"1S", std::nullopt},
                      ParseRow{"1d", std::nullopt}, ParseRow{"1e3s", std::nullopt},
                      ParseRow{"inf", std::nullopt}, ParseRow{"nans", std::nullopt},
                      ParseRow{"1s5", std::nullopt}, ParseRow{"--1s", std::nullopt},
                      ParseRow{"9999999999s", std::nullopt},  // beyond Go's int64 nanoseconds
                      ParseRow{std::string(400, '9') + "s", std::nullopt}));

// ---- RFC 3339 -------------------------------------------------------------------------------

constexpr double kLeapDayNoon2024 = 1709208000;  // 2024-02-29T12:00:00Z

class Rfc3339Test : public ::testing::TestWithParam<ParseRow> {};

TEST_P(Rfc3339Test, Parses) {
  EXPECT_THAT(ParseRfc3339(GetParam().text), ParsesTo(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Valid, Rfc3339Test,
    ::testing::Values(ParseRow{"1970-01-01T00:00:00Z", 0},
                      ParseRow{"2000-01-01T00:00:00Z", 946684800},
                      ParseRow{"2024-02-29T12:00:00Z", kLeapDayNoon2024},
                      ParseRow{"2024-02-29t12:00:00z", kLeapDayNoon2024},
                      ParseRow{"2024-02-29T12:00:00.5Z", kLeapDayNoon2024 + 0.5},
                      ParseRow{"2024-02-29T12:00:00.123456789Z", kLeapDayNoon2024 + 0.123456789},
                      ParseRow{"2024-02-29T14:00:00+02:00", kLeapDayNoon2024},
                      ParseRow{"2024-02-29T07:30:00-04:30", kLeapDayNoon2024},
                      ParseRow{"2024-02-29T12:00:00-00:00", kLeapDayNoon2024},
                      ParseRow{"2000-02-29T00:00:00Z", 951782400},
                      ParseRow{"1969-12-31T23:59:59Z", -1},
                      ParseRow{"2016-12-31T23:59:60Z", 1483228800}));

INSTANTIATE_TEST_SUITE_P(Invalid, Rfc3339Test,
                         ::testing::Values(ParseRow{"", std::nullopt},
                                           ParseRow{"garbage", std::nullopt},
                                           ParseRow{"2024-13-01T00:00:00Z", std::nullopt},
                                           ParseRow{"2024-00-01T00:00:00Z", std::nullopt},
                                           ParseRow{"2023-02-29T00:00:00Z", std::nullopt},
                                           ParseRow{"1900-02-29T00:00:00Z", std::nullopt},
                                           ParseRow{"2024-04-31T00:00:00Z", std::nullopt},
                                           ParseRow{"2024-01-00T00:00:00Z", std::nullopt},
                                           ParseRow{"2024-01-01T24:00:00Z", std::nullopt},
                                           ParseRow{"2024-01-01T00:60:00Z", std::nullopt},
                                           ParseRow{"2024-01-01T00:00:61Z", std::nullopt},
                                           ParseRow{"2024-01-01T00:00:00", std::nullopt},
                                           ParseRow{"2024-01-01 00:00:00Z", std::nullopt},
                                           ParseRow{"2024-01-01T00:00:00.Z", std::nullopt},
                                           ParseRow{"2024-01-01T00:00:00ZZ", std::nullopt},
                                           ParseRow{"2024-01-01T00:00:00+24:00", std::nullopt},
                                           ParseRow{"2024-01-01T00:00:00+01:60", std::nullopt},
                                           ParseRow{"2024-01-01T00:00:00+0100", std::nullopt},
                                           ParseRow{"2024-01-01T00:00:00+01:00 ", std::nullopt},
                                           ParseRow{"2024-1-01T00:00:00Z", std::nullopt},
                                           ParseRow{"+024-01-01T00:00:00Z", std::nullopt},
                                           ParseRow{"2024-01-01T00:00:0Z", std::nullopt},
                                           ParseRow{"1748199600", std::nullopt}));

TEST(Rfc3339PropertyTest, AgreesWithTheStandardCalendarOverTwoCenturies) {
  using std::chrono::days;
  using std::chrono::sys_days;
  using std::chrono::year_month_day;
  const sys_days first =
      year_month_day{std::chrono::year{1970}, std::chrono::January, std::chrono::day{1}};
  const sys_days last =
      year_month_day{std::chrono::year{2170}, std::chrono::January, std::chrono::day{1}};
  for (sys_days date = first; date < last; date += days{1}) {
    const year_month_day ymd{date};
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT01:02:03Z", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    const double expected = static_cast<double>(date.time_since_epoch().count()) * 86400 + 3723;
    ASSERT_THAT(ParseRfc3339(text), Optional(Eq(expected))) << text;
  }
}

// ---- HTTP-date ------------------------------------------------------------------------------

class HttpDateTest : public ::testing::TestWithParam<ParseRow> {};

TEST_P(HttpDateTest, Parses) {
  EXPECT_THAT(ParseHttpDate(GetParam().text), ParsesTo(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Valid, HttpDateTest,
    ::testing::Values(ParseRow{"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
                      ParseRow{"Thu, 29 Feb 2024 12:00:00 GMT", kLeapDayNoon2024},
                      // The day name is not checked against the date, as in Go's net/http.
                      ParseRow{"Mon, 29 Feb 2024 12:00:00 GMT", kLeapDayNoon2024}));

INSTANTIATE_TEST_SUITE_P(Invalid, HttpDateTest,
                         ::testing::Values(ParseRow{"", std::nullopt},
                                           ParseRow{"Sunday, 06-Nov-94 08:49:37 GMT", std::nullopt},
                                           ParseRow{"Sun Nov  6 08:49:37 1994", std::nullopt},
                                           ParseRow{"Sun, 06 Nov 1994 08:49:37 UTC", std::nullopt},
                                           ParseRow{"Sun, 06 Nov 1994 08:49:37 GMT ", std::nullopt},
                                           ParseRow{"Sun, 06 nov 1994 08:49:37 GMT", std::nullopt},
                                           ParseRow{"Sun, 06 Foo 1994 08:49:37 GMT", std::nullopt},
                                           ParseRow{"Xyz, 06 Nov 1994 08:49:37 GMT", std::nullopt},
                                           ParseRow{"Sun, 31 Feb 1994 08:49:37 GMT", std::nullopt},
                                           ParseRow{"Sun, 06 Nov 1994 25:49:37 GMT", std::nullopt},
                                           ParseRow{"Sun, 6 Nov 1994 08:49:37 GMT ", std::nullopt},
                                           ParseRow{"Sun,  06 Nov 1994 08:49:37 GMT",
                                                    std::nullopt}));

// ---- Retry-After ----------------------------------------------------------------------------

constexpr double kNow = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(RetryAfterTest, DelaySeconds) {
  EXPECT_THAT(ParseRetryAfter("120", kNow), Optional(Eq(120.0)));
  EXPECT_THAT(ParseRetryAfter("0", kNow), Optional(Eq(0.0)));
  EXPECT_THAT(ParseRetryAfter(" \t30 ", kNow), Optional(Eq(30.0)));
}

TEST(RetryAfterTest, HttpDateIsCountedFromNow) {
  EXPECT_THAT(ParseRetryAfter("Sun, 06 Nov 1994 08:50:37 GMT", kNow), Optional(Eq(60.0)));
  EXPECT_THAT(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kNow + 0.25), Optional(Eq(0.0)));
  EXPECT_THAT(ParseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", kNow), Optional(Eq(0.0)));
}

TEST(RetryAfterTest, GarbageIsRejected) {
  for (const char* value :
       {"", "  ", "-5", "1.5", "+5", "5s", "soon", "120 seconds", "Sun, 06 Nov 1994 08:49:37"}) {
    EXPECT_EQ(ParseRetryAfter(value, kNow), std::nullopt) << value;
  }
}

// ---- Rate limits ----------------------------------------------------------------------------

auto IsLimit(const std::string& resource, std::optional<double> limit,
             std::optional<double> remaining, std::optional<double> reset) {
  return ::testing::AllOf(Field(&RateLimit::resource, resource),
                          Field(&RateLimit::limit, ParsesTo(limit)),
                          Field(&RateLimit::remaining, ParsesTo(remaining)),
                          Field(&RateLimit::reset_seconds, ParsesTo(reset)));
}

TEST(RateLimitsTest, OpenAiHeaders) {
  const HeaderList headers = {
      {"content-type", "application/json"},       {"openai-processing-ms", "412"},
      {"x-ratelimit-limit-requests", "10000"},    {"x-ratelimit-limit-tokens", "30000000"},
      {"x-ratelimit-remaining-requests", "9999"}, {"x-ratelimit-remaining-tokens", "29999990"},
      {"x-ratelimit-reset-requests", "6ms"},      {"x-ratelimit-reset-tokens", "6m0s"},
      {"x-request-id", "req_8a2d7c0e9f"},
  };
  EXPECT_THAT(ParseRateLimits(headers, kNow),
              ElementsAre(IsLimit("requests", 10000, 9999, 0.006),
                          IsLimit("tokens", 30000000, 29999990, 360)));
}

TEST(RateLimitsTest, AnthropicHeaders) {
  const HeaderList headers = {
      {"anthropic-ratelimit-requests-limit", "4000"},
      {"anthropic-ratelimit-requests-remaining", "3999"},
      {"anthropic-ratelimit-requests-reset", "1994-11-06T08:49:38Z"},
      {"anthropic-ratelimit-input-tokens-limit", "2000000"},
      {"anthropic-ratelimit-input-tokens-remaining", "2000000"},
      {"anthropic-ratelimit-input-tokens-reset", "1994-11-06T08:49:37.5Z"},
      {"anthropic-ratelimit-output-tokens-limit", "400000"},
      {"anthropic-ratelimit-output-tokens-remaining", "399990"},
      {"anthropic-ratelimit-output-tokens-reset", "1994-11-06T08:49:00Z"},  // passed: 0
      {"anthropic-ratelimit-tokens-limit", "2400000"},
      {"anthropic-ratelimit-tokens-remaining", "2399990"},
      {"anthropic-ratelimit-tokens-reset", "1994-11-06T09:49:37+01:00"},
      {"request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"},
      {"anthropic-ratelimit-unified-status", "allowed"},
  };
  EXPECT_THAT(
      ParseRateLimits(headers, kNow),
      ElementsAre(IsLimit("input-tokens", 2000000, 2000000, 0.5),
                  IsLimit("output-tokens", 400000, 399990, 0), IsLimit("requests", 4000, 3999, 1),
                  IsLimit("tokens", 2400000, 2399990, 0)));
}

TEST(RateLimitsTest, NoHeadersNoLimits) {
  EXPECT_THAT(ParseRateLimits({}, kNow), IsEmpty());
  EXPECT_THAT(ParseRateLimits({{"x-ratelimit-reset", "60"},
                               {"x-ratelimit-limit-", "5"},
                               {"anthropic-ratelimit--limit", "5"},
                               {"x-ratelimit-limit", "5"}},
                              kNow),
              IsEmpty());
}

TEST(RateLimitsTest, NamesAreMatchedWithoutCaseAndResourcesLowerCased) {
  EXPECT_THAT(ParseRateLimits({{"X-RateLimit-Limit-Tokens", "5"},
                               {"Anthropic-RateLimit-Input-Tokens-Remaining", "4"}},
                              kNow),
              ElementsAre(IsLimit("input-tokens", std::nullopt, 4, std::nullopt),
                          IsLimit("tokens", 5, std::nullopt, std::nullopt)));
}

TEST(RateLimitsTest, ResourcesThatCannotBeLabelValuesAreDropped) {
  const HeaderList headers = {
      {"x-ratelimit-limit-req.uests", "1"},
      {"x-ratelimit-limit-a b", "1"},
      {"x-ratelimit-limit-r\xc3\xa9qs", "1"},
      {"x-ratelimit-limit-" + std::string(65, 'r'), "1"},
      {"x-ratelimit-limit-tokens_usage_based", "7"},
      {"x-ratelimit-limit-requests-day", "8"},
  };
  EXPECT_THAT(ParseRateLimits(headers, kNow),
              ElementsAre(IsLimit("requests-day", 8, std::nullopt, std::nullopt),
                          IsLimit("tokens_usage_based", 7, std::nullopt, std::nullopt)));
}

TEST(RateLimitsTest, UnparsableValuesLeaveTheFieldAbsent) {
  const HeaderList headers = {
      {"x-ratelimit-limit-requests", " 100 "},
      {"x-ratelimit-remaining-requests", "-1"},
      {"x-ratelimit-reset-requests", "5"},
      {"x-ratelimit-limit-tokens", "1e3"},
      {"x-ratelimit-remaining-tokens", "inf"},
      {"x-ratelimit-reset-tokens", "1d"},
      {"anthropic-ratelimit-requests-reset", "1748199600"},
      {"x-ratelimit-limit-images", "nan"},  // nothing parsable: no entry at all
  };
  EXPECT_THAT(ParseRateLimits(headers, kNow),
              ElementsAre(IsLimit("requests", 100, std::nullopt, std::nullopt)));
}

TEST(RateLimitsTest, FirstParsableValueWins) {
  EXPECT_THAT(ParseRateLimits({{"x-ratelimit-limit-requests", "junk"},
                               {"x-ratelimit-limit-requests", "10"},
                               {"x-ratelimit-limit-requests", "20"}},
                              kNow),
              ElementsAre(IsLimit("requests", 10, std::nullopt, std::nullopt)));
}

TEST(RateLimitsTest, AtMostSixteenResourcesFirstSeenFirstKept) {
  HeaderList headers;
  for (char c = 'z'; c >= 'a'; --c)
    headers.emplace_back(std::string("x-ratelimit-limit-") + c, "1");
  const std::vector<RateLimit> limits = ParseRateLimits(headers, kNow);
  ASSERT_EQ(limits.size(), 16u);
  EXPECT_EQ(limits.front().resource, "k");
  EXPECT_EQ(limits.back().resource, "z");
}

TEST(RateLimitsTest, KnownResourcesStillUpdateAfterTheCap) {
  HeaderList headers;
  for (int i = 0; i < 16; ++i) headers.emplace_back("x-ratelimit-limit-r" + std::to_string(i), "1");
  headers.emplace_back("x-ratelimit-remaining-r0", "0");
  headers.emplace_back("x-ratelimit-remaining-r99", "0");
  const std::vector<RateLimit> limits = ParseRateLimits(headers, kNow);
  ASSERT_EQ(limits.size(), 16u);
  EXPECT_THAT(limits.front(), IsLimit("r0", 1, 0, std::nullopt));
}

}  // namespace
}  // namespace llm_probe
